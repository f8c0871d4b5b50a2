package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"

	"lanfeed/feed"
)

// NodeRecord is the node's row: its identity and its pairing token.
type NodeRecord struct {
	feed.Identity
	Token string // pairing token; never log it
}

// tokenBytes is the pairing token's entropy: 128 bits.
const tokenBytes = 16

// initNode creates the node row on first open. A non-empty name also renames
// an existing node, so `--name` always wins.
func (s *Store) initNode(ctx context.Context, name string) error {
	name = strings.TrimSpace(name)
	if name != "" {
		if err := feed.CheckName("name", name); err != nil {
			return fmt.Errorf("store: node name: %w", err)
		}
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var have string
		err := tx.QueryRowContext(ctx, `SELECT name FROM node`).Scan(&have)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if name == "" {
				name = defaultName()
			}
			_, err = tx.ExecContext(ctx,
				`INSERT INTO node (singleton, id, name, epoch, token, created_at) VALUES (1, ?, ?, ?, ?, ?)`,
				feed.NewID(), name, feed.RandomToken(16), feed.RandomToken(tokenBytes), s.now().UnixMilli())
		case err == nil && name != "" && name != have:
			_, err = tx.ExecContext(ctx, `UPDATE node SET name = ?`, name)
		}
		if err != nil {
			return fmt.Errorf("store: init node: %w", err)
		}
		return nil
	})
}

// defaultName is the host name, cut to the name limit, or "lanfeed".
func defaultName() string {
	h, err := os.Hostname()
	h = strings.TrimSpace(h)
	if err != nil || feed.CheckName("name", h) != nil {
		return "lanfeed"
	}
	return h
}

// Node returns the node identity.
func (s *Store) Node(ctx context.Context) (NodeRecord, error) {
	var n NodeRecord
	err := s.r.QueryRowContext(ctx, `SELECT id, name, epoch, token FROM node`).Scan(&n.ID, &n.Name, &n.Epoch, &n.Token)
	if err != nil {
		return n, fmt.Errorf("store: read node: %w", err)
	}
	return n, nil
}

// SetName changes the node's display name.
func (s *Store) SetName(ctx context.Context, name string) error {
	name = strings.TrimSpace(name)
	if err := feed.CheckName("name", name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE node SET name = ?`, name); err != nil {
			return fmt.Errorf("store: set name: %w", err)
		}
		return nil
	})
}

// RotateToken replaces the pairing token and returns the new one.
func (s *Store) RotateToken(ctx context.Context) (string, error) {
	token := feed.RandomToken(tokenBytes)
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE node SET token = ?`, token)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: rotate token: %w", err)
	}
	return token, nil
}

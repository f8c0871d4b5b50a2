package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"lanfeed/feed"
)

// keyAutoFollow is the settings row of feed.MeshSettings.AutoFollow.
const keyAutoFollow = "auto_follow"

// MeshSettings returns the stored following settings; a setting never
// stored has its default (auto-follow off).
func (s *Store) MeshSettings(ctx context.Context) (feed.MeshSettings, error) {
	var ms feed.MeshSettings
	var raw string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, keyAutoFollow).Scan(&raw)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ms, nil
	case err != nil:
		return ms, fmt.Errorf("store: read settings: %w", err)
	}
	if err := json.Unmarshal([]byte(raw), &ms.AutoFollow); err != nil {
		return ms, fmt.Errorf("store: read settings: %s is %q, not true or false", keyAutoFollow, raw)
	}
	return ms, nil
}

// SetMeshSettings stores the following settings.
func (s *Store) SetMeshSettings(ctx context.Context, ms feed.MeshSettings) error {
	value, _ := json.Marshal(ms.AutoFollow)
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, keyAutoFollow, string(value))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: write settings: %w", err)
	}
	return nil
}

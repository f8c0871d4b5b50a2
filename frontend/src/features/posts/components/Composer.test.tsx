import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Composer } from './Composer';

afterEach(cleanup);

function setup(onPublish = vi.fn(() => Promise.resolve())) {
  const user = userEvent.setup();
  render(<Composer onPublish={onPublish} author="alice" />);
  const title = screen.getByLabelText<HTMLInputElement>('Title');
  const body = screen.getByLabelText<HTMLTextAreaElement>('Text');
  const button = screen.getByRole<HTMLButtonElement>('button', { name: /publish/i });
  return { user, title, body, button, onPublish };
}

// describedBy returns the text of the elements that describe el.
function describedBy(el: HTMLElement): string {
  return (el.getAttribute('aria-describedby') ?? '')
    .split(' ')
    .filter(Boolean)
    .map((id) => document.getElementById(id)?.textContent ?? '')
    .join(' | ');
}

// deferred returns a promise and the functions that settle it.
function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('Composer limits', () => {
  it('shows no counter far from the limit, then counts code points near it', () => {
    const { title } = setup();
    fireEvent.change(title, { target: { value: 'short' } });
    expect(screen.queryByText(/\/ 200/)).toBeNull();
    // 159 letters and an emoji (two UTF-16 units, one code point): 160 of 200
    fireEvent.change(title, { target: { value: 'a'.repeat(159) + '😀' } });
    expect(screen.getByText('160 / 200')).toBeTruthy();
    expect(describedBy(title)).toContain('160 / 200');
  });

  it('marks a title over the limit and refuses to send it', async () => {
    const { user, title, button, onPublish } = setup();
    fireEvent.change(title, { target: { value: 'x'.repeat(205) } });
    const counter = screen.getByText('205 / 200');
    expect(counter.getAttribute('aria-label')).toBe('5 characters over the limit of 200');
    await user.click(button);
    expect(onPublish).not.toHaveBeenCalled();
    expect(title.getAttribute('aria-invalid')).toBe('true');
    expect(describedBy(title)).toContain('The title is 5 characters too long.');
  });

  it('counts the body against 20000', () => {
    const { body } = setup();
    fireEvent.change(body, { target: { value: 'b'.repeat(20_001) } });
    expect(screen.getByText('20,001 / 20,000')).toBeTruthy();
  });
});

describe('Composer errors', () => {
  it('asks for a title next to the title field', async () => {
    const { user, body, button, onPublish } = setup();
    await user.type(body, 'text without a title');
    await user.click(button);
    expect(onPublish).not.toHaveBeenCalled();
    const title = screen.getByLabelText('Title');
    expect(describedBy(title)).toContain('Give your post a title.');
    expect(document.activeElement).toBe(title);
    // typing clears the error
    await user.type(title, 'T');
    expect(title.getAttribute('aria-invalid')).toBeNull();
  });

  it('shows the node’s field error next to that field, keeping the text', async () => {
    const onPublish = vi.fn(() => Promise.reject({ code: 'invalid', field: 'body', message: 'body contains control character U+0007' }));
    const { user, title, body, button } = setup(onPublish);
    await user.type(title, 'Hello');
    await user.type(body, 'World');
    await user.click(button);
    expect(body.getAttribute('aria-invalid')).toBe('true');
    expect(describedBy(body)).toContain('body contains control character U+0007');
    expect(title.getAttribute('aria-invalid')).toBeNull();
    expect(title.value).toBe('Hello');
    expect(body.value).toBe('World');
  });

  it('shows errors that concern no field above the buttons', async () => {
    const onPublish = vi.fn(() => Promise.reject({ code: 'unauthorized', message: 'token required' }));
    const { user, title, button } = setup(onPublish);
    await user.type(title, 'Hello');
    await user.click(button);
    expect(screen.getByRole('alert').textContent).toMatch(/pairing token/);
  });
});

describe('Composer sending', () => {
  it('publishes with Ctrl+Enter and Cmd+Enter, trimmed, then clears', async () => {
    const { user, title, body, onPublish } = setup();
    await user.type(title, '  Hello  ');
    await user.type(body, 'line 1{Enter}line 2');
    await user.keyboard('{Control>}{Enter}{/Control}');
    expect(onPublish).toHaveBeenCalledWith({ title: 'Hello', body: 'line 1\nline 2' });
    await vi.waitFor(() => expect(title.value).toBe(''));
    expect(body.value).toBe('');

    await user.type(title, 'Second');
    await user.keyboard('{Meta>}{Enter}{/Meta}');
    expect(onPublish).toHaveBeenLastCalledWith({ title: 'Second', body: '' });
  });

  it('a plain Enter in the text is a new line, not a publish', async () => {
    const { user, title, body, onPublish } = setup();
    await user.type(title, 'Hello');
    await user.type(body, 'a{Enter}b');
    expect(onPublish).not.toHaveBeenCalled();
  });

  it('is disabled while sending and sends once', async () => {
    const d = deferred();
    const onPublish = vi.fn(() => d.promise);
    const { user, title, button } = setup(onPublish);
    await user.type(title, 'Hello');
    await user.click(button);
    const fieldset = title.closest('fieldset') as HTMLFieldSetElement;
    expect(fieldset.disabled).toBe(true);
    expect(button.textContent).toBe('Publishing…');
    fireEvent.keyDown(title, { key: 'Enter', ctrlKey: true });
    fireEvent.submit(button.closest('form') as HTMLFormElement);
    expect(onPublish).toHaveBeenCalledTimes(1);
    await act(async () => d.resolve());
    expect(fieldset.disabled).toBe(false);
    expect(button.textContent).toBe('Publish');
  });

  it('keeps the text and enables again when sending fails', async () => {
    const d = deferred();
    const { user, title, button } = setup(vi.fn(() => d.promise));
    await user.type(title, 'Hello');
    await user.click(button);
    await act(async () => d.reject({ code: 'offline', message: 'x' }));
    expect((title.closest('fieldset') as HTMLFieldSetElement).disabled).toBe(false);
    expect(title.value).toBe('Hello');
    expect(screen.getByRole('alert').textContent).toMatch(/Not connected/);
  });
});

describe('Composer focus', () => {
  it('puts the focus back in the title once a post is published', async () => {
    const d = deferred();
    const { user, title, body, button } = setup(vi.fn(() => d.promise));
    await user.type(title, 'Hello');
    await user.type(body, 'World');
    await user.click(button);
    await act(async () => d.resolve());
    await vi.waitFor(() => expect(document.activeElement).toBe(title));
  });

  it('drops the errors of an empty composer when the writer goes elsewhere', async () => {
    const user = userEvent.setup();
    render(
      <>
        <Composer onPublish={vi.fn(() => Promise.resolve())} author="alice" />
        <input aria-label="Elsewhere" />
      </>,
    );
    await user.click(screen.getByRole('button', { name: /publish/i }));
    expect(screen.getByText('Give your post a title.')).toBeTruthy();
    await user.click(screen.getByLabelText('Elsewhere'));
    expect(screen.queryByText('Give your post a title.')).toBeNull();
  });

  it('keeps the errors of a composer with text in it', async () => {
    const user = userEvent.setup();
    render(
      <>
        <Composer onPublish={vi.fn(() => Promise.resolve())} author="alice" />
        <input aria-label="Elsewhere" />
      </>,
    );
    await user.type(screen.getByLabelText('Text'), 'a text without a title');
    await user.click(screen.getByRole('button', { name: /publish/i }));
    await user.click(screen.getByLabelText('Elsewhere'));
    expect(screen.getByText('Give your post a title.')).toBeTruthy();
  });
});

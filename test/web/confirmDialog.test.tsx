// @vitest-environment jsdom
import { fireEvent, screen, waitFor } from '@solidjs/testing-library';
import { describe, expect, it } from 'vitest';
import { askToConfirm } from '../../web/src/components/ConfirmDialog.js';

describe('askToConfirm (the app dialog that replaces confirm())', () => {
  const ask = () => askToConfirm({ title: 'Delete images', message: '3 images and their labels go for good.', confirm: 'Delete 3 images', danger: true });

  it('starts on Cancel, names the action, and answers false on Cancel, true on the action', async () => {
    const opener = document.createElement('button');
    document.body.append(opener);
    opener.focus();
    const first = ask();
    const dialog = await screen.findByTestId('confirm');
    expect(dialog.tagName).toBe('DIALOG');
    expect(document.activeElement).toBe(screen.getByTestId('confirm-cancel'));
    expect(screen.getByTestId('confirm-yes').textContent).toBe('Delete 3 images');
    fireEvent.click(screen.getByTestId('confirm-cancel'));
    expect(await first).toBe(false);
    await waitFor(() => expect(screen.queryByTestId('confirm')).toBeNull());
    // Focus goes back to what had it.
    expect(document.activeElement).toBe(opener);

    const second = ask();
    fireEvent.click(await screen.findByTestId('confirm-yes'));
    expect(await second).toBe(true);
  });
});

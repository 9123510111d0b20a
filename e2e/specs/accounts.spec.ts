/**
 * The sign-in screen says why an account is refused, in words a person can
 * act on: the sign-up rules before sending, and the server's refusals,
 * including how long to wait after too many failed sign-ins. Codes stay in
 * a details line, for support.
 */
import { ERROR_MESSAGES } from '@parley/protocol';
import { expect, test } from '../fixtures.ts';

test.use({ serverEnv: { PARLEY_SIGNIN_FAILS_PER_ACCOUNT_ADDRESS: '2', PARLEY_SIGNIN_BLOCK_SECONDS: '120' } });

test('the sign-in screen shows refusals of ids, nicknames and passwords, and how long to wait when rate-limited', async ({ parley }) => {
  await parley.signup('bob', 'Bob');
  const device = await parley.device('phone');
  const page = device.page;
  await page.goto('/');
  await page.getByRole('button', { name: 'New here? Create an account' }).click();
  await expect(page.getByText('At least 8 characters, not your user id, and not a commonly used password.')).toBeVisible();
  const alert = page.getByRole('alert');

  const tryUp = async (user: string, nickname: string, password: string): Promise<void> => {
    await page.getByLabel('User id', { exact: true }).fill(user);
    await page.getByLabel('Nickname', { exact: true }).fill(nickname);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
  };
  await tryUp('@admin', 'Admin', 'correct horse battery');
  await expect(alert).toContainText(ERROR_MESSAGES['user-id-reserved']);
  await tryUp('carol', '\u200B\u202E', 'correct horse battery');
  await expect(alert).toContainText(ERROR_MESSAGES['nickname-invalid']);
  // The common-password list is the server's: this refusal comes back from it.
  await tryUp('carol', 'Carol', 'password1');
  await expect(alert).toContainText(ERROR_MESSAGES['password-too-weak']);
  await tryUp('Bob', 'Bobby', 'correct horse battery');
  await expect(alert).toContainText(ERROR_MESSAGES['user-exists']);

  await page.getByRole('button', { name: 'Have an account? Sign in' }).click();
  const tryIn = async (password: string): Promise<void> => {
    await page.getByLabel('User id', { exact: true }).fill('bob');
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };
  await tryIn('wrong password');
  await expect(alert).toContainText(ERROR_MESSAGES['bad-credentials']);
  // The code is for support, out of the way: not in the message, in a details line that opens on request.
  await expect(alert).not.toContainText('bad-credentials');
  const details = page.getByRole('group').filter({ has: page.getByText('Details', { exact: true }) });
  await expect(details.getByText('bad-credentials')).toBeHidden();
  await details.getByText('Details', { exact: true }).click();
  await expect(details.getByText('bad-credentials')).toBeVisible();
  await tryIn('wrong again!');
  await expect(alert).toContainText(ERROR_MESSAGES['bad-credentials']);
  await tryIn('correct horse battery');
  await expect(alert).toContainText(/Too many attempts\. Try again in 2 minutes\./);
});

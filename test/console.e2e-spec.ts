import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleRoot } from '../src/console/console-static.js';
import { FakeClock } from './support/fake-clock.js';
import { scratchDatabase, type ScratchDatabase } from './support/scratch-database.js';
import { bootApp, type TestApp } from './support/test-app.js';
import { AdminBootstrap } from '../src/users/admin-bootstrap.js';

/**
 * The web console in a real browser (Debian's Chromium driven by playwright-core) against the
 * real service on its own embedded database, booted in-process so its clock can be moved:
 * codes are checked against oathtool at the service's own time, and the step boundary is
 * crossed by moving that clock, not by waiting for wall time.
 */
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test', 'artifacts');
const ADMIN_NEW_PASSWORD = 'Console-Admin-Pass-2!';
const PERSON = { username: 'erin', email: 'erin@example.com', password: 'Erin-Console-Pass-1!' };
const ACCOUNT_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const ACCOUNT_URI = `otpauth://totp/Example:erin@example.com?secret=${ACCOUNT_SECRET}&issuer=Example&period=10`;
const KEY_NAME = 'deploy-approval';

/** What oathtool prints for a base32 secret at the given time (whole seconds, UTC). */
function oathtool(secret: string, at: Date, period = 30): string {
  const now = at
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
  return execFileSync('oathtool', ['--totp', '-b', `--time-step-size=${period}s`, `--now=${now}`, secret], {
    encoding: 'utf8',
  }).trim();
}

describe('web console in a real browser', { timeout: 45_000 }, () => {
  let scratch: ScratchDatabase;
  let service: TestApp;
  let baseUrl: string;
  let browser: Browser;
  let adminContext: BrowserContext;
  let personContext: BrowserContext;
  let admin: Page;
  let person: Page;
  let generatedAdminPassword = '';
  let personMfaSecret = '';
  const clock = new FakeClock(new Date(Math.floor(Date.now() / 1000) * 1000));
  const timings: Record<string, number> = {};
  const pageErrors: string[] = [];

  const shot = async (page: Page, name: string): Promise<void> => {
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  };

  const newPage = async (context: BrowserContext): Promise<Page> => {
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    page.on('console', (message) => {
      // The CSP would report a blocked inline script or style here.
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
        pageErrors.push(message.text());
      }
    });
    return page;
  };

  const signIn = async (page: Page, username: string, password: string): Promise<void> => {
    await page.goto(`${baseUrl}/console/`);
    await page.getByLabel(/^Username or e-mail/).fill(username);
    await page.getByLabel(/^Password/).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };

  const nav = async (page: Page, label: string): Promise<void> => {
    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: label }).click();
  };

  /** The step-up dialog appears where the service asks for it (secrets, MFA changes). */
  const confirmIfAsked = async (page: Page, ready: ReturnType<Page['getByTestId']>, password: string) => {
    const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
    await ready.or(dialog).first().waitFor();
    if (await dialog.isVisible()) {
      await dialog.getByLabel(/^Password/).fill(password);
      await dialog.getByRole('button', { name: 'Confirm' }).click();
    }
    await ready.waitFor();
  };

  beforeAll(async () => {
    if (!existsSync(join(consoleRoot(), 'index.html'))) {
      throw new Error('dist/web is missing: run "npm run build" (npm test does)');
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    scratch = await scratchDatabase();
    // No ADMIN_PASSWORD: the first administrator gets a generated one, handed once to the start-up notice.
    service = await bootApp({ DATABASE_URL: scratch.url, ADMIN_PASSWORD: undefined }, { clock });
    generatedAdminPassword = service.app.get(AdminBootstrap).takeGenerated()?.password ?? '';
    await service.app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(service.app.getHttpServer().address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
        '--disable-quic',
      ],
    });
    const contextOptions = {
      permissions: ['clipboard-read', 'clipboard-write'],
      viewport: { width: 1280, height: 800 },
    };
    adminContext = await browser.newContext(contextOptions);
    personContext = await browser.newContext(contextOptions);
    admin = await newPage(adminContext);
    person = await newPage(personContext);
  }, 90_000);

  afterAll(async () => {
    writeFileSync(join(ARTIFACTS, 'timings.json'), JSON.stringify(timings, null, 2) + '\n');
    await browser?.close();
    await service?.close();
    await scratch?.drop();
  });

  it('serves the app shell at /console with its own CSP, no-cache index and immutable hashed assets', async () => {
    const shell = await fetch(`${baseUrl}/console/admin/users`);
    expect(shell.status).toBe(200);
    expect(shell.headers.get('cache-control')).toBe('no-cache');
    const csp = shell.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    const html = await shell.text();
    const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const script = await fetch(`${baseUrl}${asset}`);
    expect(script.status).toBe(200);
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${baseUrl}/console/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${baseUrl}/api/v1/users/me`)).status).toBe(401);
  });

  it('the first administrator is refused with a wrong password, then signs in and must choose a new password first', async () => {
    expect(generatedAdminPassword).not.toBe('');
    const started = Date.now();
    await admin.goto(`${baseUrl}/console`);
    await admin.getByLabel(/^Username or e-mail/).waitFor();
    timings.app_shell_to_sign_in_form_ms = Date.now() - started;
    expect(admin.url()).toBe(`${baseUrl}/console/login`);
    await shot(admin, 'login');

    await admin.getByLabel(/^Username or e-mail/).fill('admin');
    await admin.getByLabel(/^Password/).fill('Wrong-Password-1!');
    await admin.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => admin.getByRole('alert').textContent()).toContain('The username or password is wrong');

    await admin.getByLabel(/^Password/).fill(generatedAdminPassword);
    await admin.getByRole('button', { name: 'Sign in' }).click();
    await admin.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    expect(admin.url()).toBe(`${baseUrl}/console/password`);
    expect(await admin.getByRole('navigation', { name: 'Main navigation' }).count()).toBe(0);
    await shot(admin, 'password-change-forced');

    await admin.getByLabel(/^Current password/).fill(generatedAdminPassword);
    await admin.getByLabel(/^New password/).fill(ADMIN_NEW_PASSWORD);
    await admin.getByLabel(/^Repeat new password/).fill(ADMIN_NEW_PASSWORD);
    await admin.getByRole('button', { name: 'Change password' }).click();
    await admin.getByRole('heading', { name: 'Authenticator' }).waitFor();
    await admin.getByRole('navigation', { name: 'Main navigation' }).getByText('Administration').waitFor();

    const login = await service
      .http()
      .post('/api/v1/auth/login')
      .send({ username: 'admin', password: ADMIN_NEW_PASSWORD });
    expect(login.body.user.must_change_password).toBe(false);
  });

  it('a person signs up (password rules shown live), turns MFA on, and signs in again with a code', async () => {
    await person.goto(`${baseUrl}/console/signup`);
    await person.getByLabel(/^Username/).fill(PERSON.username);
    await person.getByLabel(/^E-mail/).fill(PERSON.email);
    await person.getByLabel(/^Password/).fill('short');
    const rules = person.getByTestId('password-rules').locator('li');
    expect(await rules.evaluateAll((items) => items.map((item) => item.getAttribute('data-ok')))).toEqual([
      'false',
      'false',
      'true',
      'false',
      'false',
    ]);
    await expect.poll(() => person.getByRole('button', { name: 'Create account' }).isDisabled()).toBe(true);
    await person.getByLabel(/^Password/).fill(PERSON.password);
    await person.getByLabel(/^Repeat password/).fill(PERSON.password);
    expect(await rules.evaluateAll((items) => items.every((item) => item.getAttribute('data-ok') === 'true'))).toBe(
      true,
    );
    await shot(person, 'signup');
    await person.getByRole('button', { name: 'Create account' }).click();
    await person.getByText(`Account "${PERSON.username}" created: sign in now.`).waitFor();

    await person.getByLabel(/^Username or e-mail/).fill(PERSON.email);
    await person.getByLabel(/^Password/).fill(PERSON.password);
    await person.getByRole('button', { name: 'Sign in' }).click();
    await person.getByRole('heading', { name: 'Authenticator' }).waitFor();

    await nav(person, 'Security & sessions');
    await person.getByRole('button', { name: 'Set up two-factor authentication' }).click();
    await confirmIfAsked(person, person.getByTestId('mfa-secret'), PERSON.password);
    const secret = (await person.getByTestId('mfa-secret').textContent())!.trim();
    personMfaSecret = secret;
    await shot(person, 'mfa-setup');
    await person.getByLabel(/^Code from the app/).fill(oathtool(secret, clock.now()));
    await person.getByRole('button', { name: 'Confirm' }).click();
    await person.getByTestId('recovery-codes').waitFor();
    await expect.poll(() => person.getByTestId('mfa-status').textContent()).toBe('On');
    await shot(person, 'security');

    await person.getByTestId('account-menu').click();
    await person.getByRole('menuitem', { name: 'Sign out' }).click();
    await person.getByLabel(/^Username or e-mail/).waitFor();

    await signIn(person, PERSON.username, PERSON.password);
    await person.getByLabel(/^Authentication code/).waitFor();
    await shot(person, 'login-mfa');
    clock.advance(30_000); // the enrolment used this step's code; each step is accepted once
    await person.getByLabel(/^Authentication code/).fill(oathtool(secret, clock.now()));
    await person.getByRole('button', { name: 'Verify' }).click();
    await person.getByRole('heading', { name: 'Authenticator' }).waitFor();
  });

  it('an account added by otpauth URI shows the code oathtool prints, and clicking it puts it on the clipboard', async () => {
    await nav(person, 'Add account');
    await person.getByRole('textbox', { name: /^otpauth URI/ }).fill(ACCOUNT_URI);
    await shot(person, 'add-account');
    const started = Date.now();
    await person.getByRole('button', { name: 'Add', exact: true }).click();
    const card = person.locator('[data-testid="code-card"][data-name="Example:erin@example.com"]');
    await card.waitFor();
    timings.add_account_to_first_code_ms = Date.now() - started;
    const expected = oathtool(ACCOUNT_SECRET, clock.now(), 10);
    await expect.poll(() => card.getByTestId('code').getAttribute('data-code')).toBe(expected);
    await shot(person, 'authenticator');

    await card.getByRole('button', { name: /^Copy code for/ }).click();
    await person.getByText('Code copied to the clipboard').waitFor();
    expect(await person.evaluate('navigator.clipboard.readText()')).toBe(expected);

    // Time to first code: a fresh sign-in (assets cached) until the first live code shows.
    const fresh = await newPage(personContext);
    const t0 = Date.now();
    await fresh.goto(`${baseUrl}/console/`);
    await fresh.getByLabel(/^Username or e-mail/).fill(PERSON.username);
    await fresh.getByLabel(/^Password/).fill(PERSON.password);
    clock.advance(30_000);
    await fresh.getByRole('button', { name: 'Sign in' }).click();
    await fresh.getByLabel(/^Authentication code/).waitFor();
    await fresh.getByLabel(/^Authentication code/).fill(oathtool(personMfaSecret, clock.now()));
    const t1 = Date.now();
    await fresh.getByRole('button', { name: 'Verify' }).click();
    await fresh.locator('[data-testid="code-card"] [data-testid="code"]').first().waitFor();
    timings.sign_in_to_first_code_ms = Date.now() - t1;
    timings.page_load_to_first_code_ms_including_typing = Date.now() - t0;
    await fresh.close();
  });

  it('the code turns red in its last 5 seconds and changes at the step boundary, with one request for it', async () => {
    const card = person.locator('[data-testid="code-card"][data-name="Example:erin@example.com"]');
    const code = () => card.getByTestId('code').getAttribute('data-code');
    // Two seconds before a boundary: once the page refreshes (when its current countdown ends,
    // at most one 10 s period), it shows that step's code with 2 s left, in red.
    const boundary = new Date((Math.floor(clock.now().getTime() / 10_000) + 2) * 10_000);
    const late = new Date(boundary.getTime() - 2_000);
    clock.set(late);
    await expect.poll(code, { timeout: 12_000 }).toBe(oathtool(ACCOUNT_SECRET, late, 10));
    expect(await card.getAttribute('data-expiring')).toBe('true');
    await shot(person, 'authenticator-expiring');

    let requests = 0;
    const count = (request: { url: () => string }) => {
      if (request.url().endsWith('/api/v1/otp/codes')) requests += 1;
    };
    person.on('request', count);
    clock.set(boundary);
    const next = oathtool(ACCOUNT_SECRET, boundary, 10);
    expect(next).not.toBe(oathtool(ACCOUNT_SECRET, late, 10));
    await expect.poll(code, { timeout: 5_000 }).toBe(next);
    person.off('request', count);
    expect(requests).toBe(1);
    expect(await card.getAttribute('data-expiring')).toBe('false');
  });

  it('an administrator creates a 2-use key for the person, who then sees yellow, then red, then a depleted key', async () => {
    await nav(admin, 'Usage keys');
    await admin.getByRole('tab', { name: 'Create' }).click();
    await admin.getByLabel(/^Name/).fill(KEY_NAME);
    await admin.getByLabel(/^Maximum uses/).fill('2');
    // Usage-key tenancy: an admin-space key is used by the people it is assigned to.
    await admin.getByRole('combobox', { name: /^Assigned people/ }).fill(PERSON.username);
    await admin.getByRole('option', { name: new RegExp(`^${PERSON.username} `) }).click();
    await admin.getByRole('button', { name: 'Create key' }).click();
    const keySecret = (await admin.getByTestId('created-secret').textContent())!.trim();
    await shot(admin, 'keys-created');
    await admin.getByRole('tab', { name: 'Keys' }).click();
    const row = admin.locator(`[data-testid="key-row"][data-name="${KEY_NAME}"]`);
    await expect.poll(() => row.getAttribute('data-state')).toBe('ok');
    await shot(admin, 'keys-admin');

    await nav(person, 'Usage keys');
    await person.getByLabel(/^Key name/).fill(KEY_NAME);
    await person.getByRole('button', { name: 'Get code' }).click();
    const result = person.getByTestId('key-result');
    await expect.poll(() => person.getByTestId('usage-line').textContent()).toBe('1 use remaining (1/2 used)');
    expect(await result.getAttribute('data-state')).toBe('last');
    expect(await person.getByTestId('key-code').textContent()).toBe(oathtool(keySecret, clock.now()));
    await shot(person, 'keys-person-yellow');

    await person.getByRole('button', { name: 'Get code' }).click();
    await expect.poll(() => person.getByTestId('usage-line').textContent()).toBe('0 uses remaining (2/2 used)');
    expect(await result.getAttribute('data-state')).toBe('gone');

    await person.getByRole('button', { name: 'Get code' }).click();
    await expect.poll(() => person.getByRole('alert').last().textContent()).toContain('has no uses left');
    expect(await result.getAttribute('data-state')).toBe('gone');
    expect(await person.getByTestId('key-code').count()).toBe(0);
    await shot(person, 'keys-person-red');

    await admin.getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => row.getAttribute('data-state')).toBe('gone');
  });

  it('the audit viewer filters to the failed sign-in made with a wrong password, and the chain verifies', async () => {
    await nav(admin, 'Audit log');
    await admin.getByLabel(/^Action/).fill('auth.login');
    await admin
      .getByLabel(/^Status/)
      .first()
      .click();
    await admin.getByRole('option', { name: 'failure' }).click();
    const rows = admin.getByTestId('audit-row');
    await expect
      .poll(async () => (await rows.evaluateAll((els) => els.map((el) => el.getAttribute('data-status')))).join(','))
      .toMatch(/^failure(,failure)*$/);
    await expect.poll(() => rows.filter({ hasText: 'bad_password' }).count()).toBe(1);
    expect(await rows.evaluateAll((els) => els.every((el) => el.getAttribute('data-action') === 'auth.login'))).toBe(
      true,
    );
    await admin.getByRole('button', { name: 'Verify chain' }).click();
    await admin.getByTestId('verify-result').getByText('Chain intact').waitFor();
    await shot(admin, 'admin-audit');
  });

  it('the other pages render for their people: statistics, account detail, users, API keys, system metrics, 360 px', async () => {
    await nav(person, 'My statistics');
    await person.getByRole('img', { name: /Generations and validations per day/ }).waitFor();
    await shot(person, 'stats');
    await nav(person, 'Authenticator');
    await person.getByRole('link', { name: 'Details' }).first().click();
    await person.getByRole('heading', { name: 'Validate a code' }).waitFor();
    await shot(person, 'account-detail');
    await person.setViewportSize({ width: 360, height: 740 });
    await person.getByRole('button', { name: 'Toggle navigation' }).click();
    await nav(person, 'Authenticator');
    await person.locator('[data-testid="code-card"]').first().waitFor();
    await shot(person, 'authenticator-360px');

    await nav(admin, 'Users');
    await admin.locator(`[data-testid="user-row"][data-username="${PERSON.username}"]`).waitFor();
    await shot(admin, 'admin-users');
    await nav(admin, 'API keys');
    await admin.getByLabel(/^Name/).fill('acme-production');
    await admin.getByLabel(/^Client id/).fill('acme');
    await admin.getByRole('button', { name: 'Create', exact: true }).click();
    expect(await admin.getByTestId('api-key-secret').textContent()).toMatch(/\S{20,}/);
    await shot(admin, 'admin-api-keys');
    await nav(admin, 'System metrics');
    await admin.getByRole('img', { name: /in the last 24 hours/ }).waitFor();
    await shot(admin, 'admin-metrics');
    expect(pageErrors).toEqual([]);
  });
});

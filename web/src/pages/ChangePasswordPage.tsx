import { Button, PasswordInput, Stack, Text, Title } from '@mantine/core';
import { useState, type FormEvent, type ReactNode } from 'react';
import { useNavigate } from 'react-router';
import { api, call } from '../api/client';
import { updateUser, useSession } from '../auth/session';
import { ErrorAlert, PasswordRules, passwordOk } from '../components/common';
import { notifySuccess } from '../lib/notify';
import { AuthFrame } from './AuthFrame';

/** Password change; for the first administrator it is forced before anything else is reachable. */
export function ChangePasswordPage(): ReactNode {
  const session = useSession();
  const forced = session?.user.must_change_password === true;
  const navigate = useNavigate();
  const [form, setForm] = useState({ current: '', next: '', confirm: '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const set = (field: keyof typeof form) => (event: { currentTarget: { value: string } }) =>
    setForm({ ...form, [field]: event.currentTarget.value });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await call(() =>
        api.POST('/api/v1/auth/change-password', {
          body: { current_password: form.current, new_password: form.next },
        }),
      );
      updateUser({ must_change_password: false });
      notifySuccess('Password changed; your other sessions were signed out.');
      setForm({ current: '', next: '', confirm: '' });
      if (forced) await navigate('/', { replace: true });
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const body = (
    <form onSubmit={(event) => void submit(event)} aria-label="Change password">
      <Stack maw={420}>
        {forced && (
          <Text role="status">This account was created with a one-time password. Choose your own to continue.</Text>
        )}
        <PasswordInput
          label="Current password"
          autoComplete="current-password"
          required
          value={form.current}
          onChange={set('current')}
        />
        <PasswordInput
          label="New password"
          autoComplete="new-password"
          required
          value={form.next}
          onChange={set('next')}
        />
        <PasswordRules value={form.next} />
        <PasswordInput
          label="Repeat new password"
          autoComplete="new-password"
          required
          value={form.confirm}
          onChange={set('confirm')}
          error={form.confirm && form.confirm !== form.next ? 'The passwords differ' : undefined}
        />
        <ErrorAlert error={error} title="Password not changed" />
        <Button type="submit" loading={busy} disabled={!passwordOk(form.next) || form.confirm !== form.next}>
          Change password
        </Button>
      </Stack>
    </form>
  );
  if (forced) return <AuthFrame title="Choose a new password">{body}</AuthFrame>;
  return (
    <Stack>
      <Title order={2}>Change password</Title>
      {body}
    </Stack>
  );
}

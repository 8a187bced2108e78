import { Anchor, Button, PasswordInput, Stack, Text, TextInput } from '@mantine/core';
import { useState, type FormEvent, type ReactNode } from 'react';
import { Link, useNavigate } from 'react-router';
import { api, call } from '../api/client';
import { ErrorAlert, PasswordRules, passwordOk } from '../components/common';
import { AuthFrame } from './AuthFrame';

export function SignUpPage(): ReactNode {
  const navigate = useNavigate();
  const [form, setForm] = useState({ username: '', email: '', password: '', confirm: '' });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const set = (field: keyof typeof form) => (event: { currentTarget: { value: string } }) =>
    setForm({ ...form, [field]: event.currentTarget.value });
  const mismatch = form.confirm.length > 0 && form.confirm !== form.password;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await call(() =>
        api.POST('/api/v1/auth/register', {
          body: { username: form.username.trim(), email: form.email.trim(), password: form.password },
        }),
      );
      await navigate('/login', { state: { notice: `Account "${form.username.trim()}" created: sign in now.` } });
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthFrame title="Sign up">
      <form onSubmit={(event) => void submit(event)} aria-label="Sign up">
        <Stack>
          <TextInput
            label="Username"
            autoComplete="username"
            required
            value={form.username}
            onChange={set('username')}
          />
          <TextInput
            label="E-mail"
            type="email"
            autoComplete="email"
            required
            value={form.email}
            onChange={set('email')}
          />
          <PasswordInput
            label="Password"
            autoComplete="new-password"
            required
            value={form.password}
            onChange={set('password')}
          />
          <PasswordRules value={form.password} />
          <PasswordInput
            label="Repeat password"
            autoComplete="new-password"
            required
            value={form.confirm}
            onChange={set('confirm')}
            error={mismatch ? 'The passwords differ' : undefined}
          />
          <ErrorAlert error={error} title="Not registered" />
          <Button type="submit" loading={busy} disabled={!passwordOk(form.password) || form.confirm !== form.password}>
            Create account
          </Button>
        </Stack>
      </form>
      <Text size="sm">
        Already registered?{' '}
        <Anchor component={Link} to="/login">
          Sign in
        </Anchor>
      </Text>
    </AuthFrame>
  );
}

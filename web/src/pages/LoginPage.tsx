import { Anchor, Button, PasswordInput, Stack, Text, TextInput } from '@mantine/core';
import { useState, type FormEvent, type ReactNode } from 'react';
import { Link, Navigate, useLocation, useNavigate } from 'react-router';
import { api, call } from '../api/client';
import { startSession, useSession } from '../auth/session';
import { ErrorAlert } from '../components/common';
import { AuthFrame } from './AuthFrame';

/** Sign in with username or e-mail; a second step asks for the MFA code (or a recovery code). */
export function LoginPage(): ReactNode {
  const session = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [mfaStep, setMfaStep] = useState(false);
  const [mfaCode, setMfaCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const notice = (location.state as { notice?: string } | null)?.notice;

  if (session) return <Navigate to={session.user.must_change_password ? '/password' : '/'} replace />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await call(() =>
        api.POST('/api/v1/auth/login', {
          body: { username: username.trim(), password, ...(mfaStep ? { mfa_code: mfaCode.trim() } : {}) },
        }),
      );
      if (answer.mfa_required || !answer.access_token || !answer.user) {
        setMfaStep(true);
        return;
      }
      startSession(
        {
          access_token: answer.access_token,
          refresh_token: answer.refresh_token!,
          token_type: answer.token_type ?? 'Bearer',
          expires_in: answer.expires_in ?? 900,
        },
        answer.user,
      );
      const from = (location.state as { from?: string } | null)?.from;
      await navigate(answer.user.must_change_password ? '/password' : (from ?? '/'), { replace: true });
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthFrame title="Sign in">
      {notice && (
        <Text c="teal" role="status">
          {notice}
        </Text>
      )}
      <form onSubmit={(event) => void submit(event)} aria-label="Sign in">
        <Stack>
          <TextInput
            label="Username or e-mail"
            autoComplete="username"
            required
            value={username}
            onChange={(event) => setUsername(event.currentTarget.value)}
            disabled={mfaStep}
            data-autofocus
          />
          <PasswordInput
            label="Password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(event) => setPassword(event.currentTarget.value)}
            disabled={mfaStep}
          />
          {mfaStep && (
            <TextInput
              label="Authentication code"
              description="The 6-digit code from your authenticator app, or one of your recovery codes"
              autoComplete="one-time-code"
              required
              autoFocus
              value={mfaCode}
              onChange={(event) => setMfaCode(event.currentTarget.value)}
            />
          )}
          <ErrorAlert error={error} title="Not signed in" />
          <Button type="submit" loading={busy}>
            {mfaStep ? 'Verify' : 'Sign in'}
          </Button>
          {mfaStep && (
            <Button
              variant="subtle"
              onClick={() => {
                setMfaStep(false);
                setMfaCode('');
                setError(null);
              }}
            >
              Back
            </Button>
          )}
        </Stack>
      </form>
      <Text size="sm">
        No account yet?{' '}
        <Anchor component={Link} to="/signup">
          Sign up
        </Anchor>
      </Text>
    </AuthFrame>
  );
}

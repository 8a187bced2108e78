import { Button, Modal, PasswordInput, Stack, Text, TextInput } from '@mantine/core';
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { api, call, setStepUpHandler } from '../api/client';
import { ErrorAlert } from './common';

/**
 * When the service asks for a fresh password check before revealing a secret (step-up), this
 * dialog asks for the password (and the MFA code when on), confirms it with
 * POST /api/v1/auth/step-up, and the refused call is repeated once.
 */
export function StepUpDialog(): ReactNode {
  const [open, setOpen] = useState(false);
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const pending = useRef<((ok: boolean) => void) | null>(null);

  useEffect(() => {
    setStepUpHandler(
      () =>
        new Promise<boolean>((resolve) => {
          pending.current?.(false);
          pending.current = resolve;
          setPassword('');
          setCode('');
          setError(null);
          setOpen(true);
        }),
    );
    return () => setStepUpHandler(null);
  }, []);

  const finish = (ok: boolean) => {
    pending.current?.(ok);
    pending.current = null;
    setOpen(false);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await call(() =>
        api.POST('/api/v1/auth/step-up', {
          body: { password, ...(code.trim() ? { mfa_code: code.trim() } : {}) },
        }),
      );
      finish(true);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal opened={open} onClose={() => finish(false)} title="Confirm it is you">
      <form onSubmit={(event) => void submit(event)}>
        <Stack>
          <Text size="sm">Showing or changing a secret needs your password again (valid for 5 minutes).</Text>
          <PasswordInput
            label="Password"
            autoComplete="current-password"
            required
            data-autofocus
            value={password}
            onChange={(event) => setPassword(event.currentTarget.value)}
          />
          <TextInput
            label="Authentication code (when two-factor is on)"
            autoComplete="one-time-code"
            value={code}
            onChange={(event) => setCode(event.currentTarget.value)}
          />
          <ErrorAlert error={error} title="Not confirmed" />
          <Button type="submit" loading={busy}>
            Confirm
          </Button>
        </Stack>
      </form>
    </Modal>
  );
}

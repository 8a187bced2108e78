import { Alert, Center, List, Loader, ThemeIcon } from '@mantine/core';
import type { ReactNode } from 'react';
import { errorText } from '../lib/notify';

/** The service's password policy, checked as the person types (the service checks it again). */
export const PASSWORD_RULES: { label: string; test: (value: string) => boolean }[] = [
  { label: 'At least 12 characters', test: (v) => v.length >= 12 },
  { label: 'An upper-case letter', test: (v) => /[A-Z]/.test(v) },
  { label: 'A lower-case letter', test: (v) => /[a-z]/.test(v) },
  { label: 'A digit', test: (v) => /\d/.test(v) },
  { label: 'A special character', test: (v) => /[^A-Za-z0-9]/.test(v) },
];

export const passwordOk = (value: string): boolean => PASSWORD_RULES.every((rule) => rule.test(value));

export function PasswordRules({ value }: { value: string }): ReactNode {
  return (
    <List size="sm" spacing={2} aria-label="What a password needs" data-testid="password-rules">
      {PASSWORD_RULES.map((rule) => {
        const ok = rule.test(value);
        return (
          <List.Item
            key={rule.label}
            data-ok={ok}
            icon={
              <ThemeIcon color={ok ? 'teal' : 'gray'} size={16} radius="xl" aria-hidden>
                {ok ? '✓' : '·'}
              </ThemeIcon>
            }
          >
            {rule.label}
            <span className="visually-hidden">{ok ? ' (met)' : ' (not met)'}</span>
          </List.Item>
        );
      })}
    </List>
  );
}

export function ErrorAlert({ error, title }: { error: unknown; title?: string }): ReactNode {
  if (!error) return null;
  return (
    <Alert color="red" title={title ?? 'The service refused'} role="alert">
      {errorText(error)}
    </Alert>
  );
}

/** Loading spinner, or the error, or the content. */
export function QueryState({
  isLoading,
  error,
  children,
}: {
  isLoading: boolean;
  error: unknown;
  children: ReactNode;
}): ReactNode {
  if (isLoading) {
    return (
      <Center p="xl">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  if (error) return <ErrorAlert error={error} title="Could not load" />;
  return children;
}

export function formatDate(value: string | null | undefined): string {
  return value ? new Date(value).toLocaleString() : '—';
}

/** "Issuer: name", unless the name already starts with the issuer (otpauth labels often do). */
export function displayName(account: { name: string; issuer?: string | null }): string {
  const { name, issuer } = account;
  return issuer && !name.startsWith(issuer) ? `${issuer}: ${name}` : name;
}

import { Title } from '@mantine/core';
import type { ReactNode } from 'react';

export function UsersPage(): ReactNode {
  return <Title order={2}>UsersPage</Title>;
}

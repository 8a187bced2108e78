import { Center, Group, Paper, Stack, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { ThemeToggle } from '../App';

export function AuthFrame({ title, children }: { title: string; children: ReactNode }): ReactNode {
  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="lg" w="100%" maw={420} component="main">
        <Stack>
          <Group justify="space-between">
            <Title order={2}>{title}</Title>
            <ThemeToggle />
          </Group>
          {children}
        </Stack>
      </Paper>
    </Center>
  );
}

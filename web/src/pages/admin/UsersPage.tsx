import { Badge, Button, Group, Pagination, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { api, call, type Schemas } from '../../api/client';
import { useSession } from '../../auth/session';
import { QueryState, formatDate } from '../../components/common';
import { notifyError, notifySuccess } from '../../lib/notify';

const PAGE = 20;
type User = Schemas['UserResponseDto'];

export function UsersPage(): ReactNode {
  const [page, setPage] = useState(1);
  const [search, setSearch] = useState('');
  const [role, setRole] = useState<string | null>(null);
  const [state, setState] = useState<string | null>(null);
  const [debounced] = useDebouncedValue(search.trim(), 250);
  const users = useQuery({
    queryKey: ['users', page, debounced, role, state],
    queryFn: () =>
      call(() =>
        api.GET('/api/v1/users', {
          params: {
            query: {
              limit: PAGE,
              offset: (page - 1) * PAGE,
              ...(debounced ? { search: debounced } : {}),
              ...(role ? { role: role as 'admin' | 'user' } : {}),
              ...(state === 'active' ? { is_active: true } : state === 'disabled' ? { is_active: false } : {}),
              ...(state === 'locked' ? { locked: true } : {}),
            },
          },
        }),
      ),
  });
  return (
    <Stack>
      <Title order={2}>Users</Title>
      <Group align="end">
        <TextInput
          label="Search"
          placeholder="Username or e-mail"
          value={search}
          onChange={(event) => {
            setSearch(event.currentTarget.value);
            setPage(1);
          }}
        />
        <Select label="Role" placeholder="Any" clearable data={['admin', 'user']} value={role} onChange={setRole} />
        <Select
          label="State"
          placeholder="Any"
          clearable
          data={['active', 'disabled', 'locked']}
          value={state}
          onChange={setState}
        />
      </Group>
      <QueryState isLoading={users.isLoading} error={users.error}>
        <Table.ScrollContainer minWidth={820}>
          <Table striped highlightOnHover aria-label="Users">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>User</Table.Th>
                <Table.Th>Role</Table.Th>
                <Table.Th>State</Table.Th>
                <Table.Th>MFA</Table.Th>
                <Table.Th>Last sign-in</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(users.data?.items ?? []).map((user) => (
                <UserRow key={user.id} user={user} />
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        {users.data && (
          <Group justify="space-between">
            <Text size="sm" c="dimmed">
              {users.data.total} user{users.data.total === 1 ? '' : 's'}
            </Text>
            {users.data.total > PAGE && (
              <Pagination total={Math.ceil(users.data.total / PAGE)} value={page} onChange={setPage} />
            )}
          </Group>
        )}
      </QueryState>
    </Stack>
  );
}

function UserRow({ user }: { user: User }): ReactNode {
  const session = useSession();
  const queryClient = useQueryClient();
  const self = session?.user.id === user.id;
  const locked = user.locked_until !== null && Date.parse(user.locked_until) > Date.now();
  const done = (message: string) => {
    notifySuccess(message);
    void queryClient.invalidateQueries({ queryKey: ['users'] });
  };
  const patch = useMutation({
    mutationFn: (body: Schemas['AdminUpdateUserDto']) =>
      call(() => api.PATCH('/api/v1/users/{id}', { params: { path: { id: user.id } }, body })),
    onSuccess: () => done(`${user.username} updated`),
    onError: (error) => notifyError(error),
  });
  const unlock = useMutation({
    mutationFn: () => call(() => api.POST('/api/v1/users/{id}/unlock', { params: { path: { id: user.id } } })),
    onSuccess: () => done(`${user.username} unlocked`),
    onError: (error) => notifyError(error),
  });
  return (
    <Table.Tr data-testid="user-row" data-username={user.username}>
      <Table.Td>
        <Text fw={600}>{user.username}</Text>
        <Text size="xs" c="dimmed">
          {user.email}
        </Text>
      </Table.Td>
      <Table.Td>
        <Select
          aria-label={`Role of ${user.username}`}
          size="xs"
          w={110}
          allowDeselect={false}
          disabled={self}
          data={['user', 'admin']}
          value={user.role}
          onChange={(role) => role && role !== user.role && patch.mutate({ role: role as 'admin' | 'user' })}
        />
      </Table.Td>
      <Table.Td>
        <Group gap={4}>
          <Badge color={user.is_active ? 'teal' : 'gray'}>{user.is_active ? 'active' : 'disabled'}</Badge>
          {locked && <Badge color="red">locked until {new Date(user.locked_until!).toLocaleTimeString()}</Badge>}
        </Group>
      </Table.Td>
      <Table.Td>{user.mfa_enabled ? 'on' : 'off'}</Table.Td>
      <Table.Td>{formatDate(user.last_login_at)}</Table.Td>
      <Table.Td>
        <Group gap={4} wrap="nowrap">
          {locked && (
            <Button size="xs" variant="light" onClick={() => unlock.mutate()} loading={unlock.isPending}>
              Unlock
            </Button>
          )}
          {!self && (
            <Button
              size="xs"
              variant="light"
              color={user.is_active ? 'red' : 'teal'}
              onClick={() => patch.mutate({ is_active: !user.is_active })}
              loading={patch.isPending}
            >
              {user.is_active ? 'Disable' : 'Enable'}
            </Button>
          )}
        </Group>
      </Table.Td>
    </Table.Tr>
  );
}

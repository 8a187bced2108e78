import {
  ActionIcon,
  AppShell,
  Burger,
  Group,
  Menu,
  NavLink,
  Text,
  Title,
  useComputedColorScheme,
  useMantineColorScheme,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import type { ReactNode } from 'react';
import { Navigate, NavLink as RouterLink, Outlet, Route, Routes, useLocation, useNavigate } from 'react-router';
import { signOut, useSession } from './auth/session';
import { StepUpDialog } from './components/StepUp';
import { AccountDetailPage } from './pages/AccountDetailPage';
import { AddAccountPage } from './pages/AddAccountPage';
import { AuditPage } from './pages/admin/AuditPage';
import { ApiKeysPage } from './pages/admin/ApiKeysPage';
import { SystemMetricsPage } from './pages/admin/SystemMetricsPage';
import { UsersPage } from './pages/admin/UsersPage';
import { AuthenticatorPage } from './pages/AuthenticatorPage';
import { ChangePasswordPage } from './pages/ChangePasswordPage';
import { KeysPage } from './pages/KeysPage';
import { LoginPage } from './pages/LoginPage';
import { SecurityPage } from './pages/SecurityPage';
import { SignUpPage } from './pages/SignUpPage';
import { StatsPage } from './pages/StatsPage';

export function App(): ReactNode {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route path="/signup" element={<SignUpPage />} />
      <Route element={<RequireSession />}>
        <Route path="/password" element={<ChangePasswordPage />} />
        <Route element={<Shell />}>
          <Route index element={<AuthenticatorPage />} />
          <Route path="/accounts/new" element={<AddAccountPage />} />
          <Route path="/accounts/:id" element={<AccountDetailPage />} />
          <Route path="/stats" element={<StatsPage />} />
          <Route path="/keys" element={<KeysPage />} />
          <Route path="/security" element={<SecurityPage />} />
          <Route path="/settings/password" element={<ChangePasswordPage />} />
          <Route element={<RequireAdmin />}>
            <Route path="/admin/users" element={<UsersPage />} />
            <Route path="/admin/api-keys" element={<ApiKeysPage />} />
            <Route path="/admin/audit" element={<AuditPage />} />
            <Route path="/admin/metrics" element={<SystemMetricsPage />} />
          </Route>
        </Route>
      </Route>
      <Route path="*" element={<Navigate to="/" replace />} />
    </Routes>
  );
}

/** Signed-out people go to sign-in; a forced password change comes before anything else. */
function RequireSession(): ReactNode {
  const session = useSession();
  const location = useLocation();
  if (!session) return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  if (session.user.must_change_password && location.pathname !== '/password') {
    return <Navigate to="/password" replace />;
  }
  return <Outlet />;
}

function RequireAdmin(): ReactNode {
  const session = useSession();
  return session?.user.role === 'admin' ? <Outlet /> : <Navigate to="/" replace />;
}

const PERSON_LINKS = [
  { to: '/', label: 'Authenticator', end: true },
  { to: '/accounts/new', label: 'Add account' },
  { to: '/stats', label: 'My statistics' },
  { to: '/keys', label: 'Usage keys' },
  { to: '/security', label: 'Security & sessions' },
];
const ADMIN_LINKS = [
  { to: '/admin/users', label: 'Users' },
  { to: '/admin/api-keys', label: 'API keys' },
  { to: '/admin/audit', label: 'Audit log' },
  { to: '/admin/metrics', label: 'System metrics' },
];

function Shell(): ReactNode {
  const [opened, { toggle, close }] = useDisclosure();
  const session = useSession();
  const navigate = useNavigate();
  const isAdmin = session?.user.role === 'admin';
  const link = (item: { to: string; label: string; end?: boolean }) => (
    <NavLink key={item.to} component={RouterLink} to={item.to} end={item.end} label={item.label} onClick={close} />
  );
  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 230, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Title order={4}>OTP Console</Title>
          </Group>
          <Group gap="xs" wrap="nowrap">
            <ThemeToggle />
            <Menu position="bottom-end">
              <Menu.Target>
                <ActionIcon variant="default" size="lg" aria-label="Account menu" data-testid="account-menu">
                  {session?.user.username.slice(0, 1).toUpperCase()}
                </ActionIcon>
              </Menu.Target>
              <Menu.Dropdown>
                <Menu.Label>
                  {session?.user.username} ({session?.user.role})
                </Menu.Label>
                <Menu.Item onClick={() => void navigate('/settings/password')}>Change password</Menu.Item>
                <Menu.Item onClick={() => void navigate('/security')}>Security & sessions</Menu.Item>
                <Menu.Item color="red" onClick={() => void signOut().then(() => navigate('/login'))}>
                  Sign out
                </Menu.Item>
              </Menu.Dropdown>
            </Menu>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main navigation">
        {PERSON_LINKS.map(link)}
        {isAdmin && (
          <>
            <Text size="xs" c="dimmed" fw={700} mt="md" mb={4} px="sm" tt="uppercase">
              Administration
            </Text>
            {ADMIN_LINKS.map(link)}
          </>
        )}
      </AppShell.Navbar>
      <AppShell.Main>
        <StepUpDialog />
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}

export function ThemeToggle(): ReactNode {
  const { setColorScheme } = useMantineColorScheme();
  const computed = useComputedColorScheme('light');
  const next = computed === 'dark' ? 'light' : 'dark';
  return (
    <ActionIcon variant="default" size="lg" onClick={() => setColorScheme(next)} aria-label={`Switch to ${next} theme`}>
      {computed === 'dark' ? '☀' : '☾'}
    </ActionIcon>
  );
}

/**
 * The users module's statements that other modules reach only through UsersService. The
 * module's own reads and writes of one account stay in UsersService (TypeORM and the lock SQL).
 */

/**
 * The accounts that may act now (not disabled), as a relation another module joins in its own
 * statement: columns `id`, `username`, `role`, `must_change_password`. Postgres inlines the
 * subquery, so the join plans as one over `users` itself. The result is cached until the
 * database announces a change: a column this relation reads must be one the users trigger of
 * the AuthInvalidation migration watches.
 */
export const ACTIVE_ACCOUNTS_RELATION = `(SELECT id, username, role, must_change_password FROM users WHERE is_active)`;

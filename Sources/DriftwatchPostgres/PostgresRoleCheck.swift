import DriftwatchCore
import PostgresNIO

/// `driftwatch impact` was pointed at PostgreSQL as a role that could act outside the transaction it rolls
/// back. Nothing was run. Exit 2.
public struct UnfitRoleError: UserFacingError, Hashable {
  public var message: String
  /// The role, and what makes it unfit (`postgres is a superuser`, `it may execute dblink_exec(text)`).
  public var role: String
  public var problems: [String]

  public init(role: String, problems: [String], recipe: String) {
    self.role = role
    self.problems = problems
    let shown = problems.prefix(3).joined(separator: "; ")
    let more = problems.count > 3 ? " (and \(problems.count - 3) more)" : ""
    message =
      "refusing to run the migration as \(PostgresSession.quoted(role)): \(shown)\(more), so what the migration "
      + "does outside its transaction (COPY … TO PROGRAM, lo_export, dblink, pg_terminate_backend, a replication "
      + "slot) would not be rolled back; run impact as a role that cannot act outside it: \(recipe) "
      + "(see docs/impact.md); nothing was run"
  }
}

/// The structural half of `impact`'s guarantee on PostgreSQL: before the migration's first statement, one
/// read-only query on the trial's own connection checks that its role cannot act outside the transaction.
///
/// Unfit: a role that is, or is a member of (directly, through other roles, with or without `INHERIT` —
/// `SET ROLE` reaches them all — or with `ADMIN OPTION`), a role that
/// - is a superuser, has `REPLICATION` (replication slots persist), or `CREATEROLE` (on PostgreSQL 15 and
///   earlier it can grant itself any predefined role inside the transaction);
/// - is `pg_execute_server_program`, `pg_write_server_files`, `pg_read_server_files` or `pg_signal_backend`;
/// and a role that may `EXECUTE` a function acting outside the transaction (server-side `lo_export` /
/// `lo_import`, adminpack's file functions, `pg_reload_conf`, `pg_rotate_logfile`, any `dblink…`), a
/// function in an untrusted language (`plpython3u`, `plperlu`), or a `SECURITY DEFINER` function owned by
/// an unfit role; that may use a foreign server or foreign-data wrapper; or (PostgreSQL 15+) that was
/// granted a superuser-only setting (`GRANT SET ON PARAMETER`).
///
/// A non-superuser cannot `SET SESSION AUTHORIZATION`, can `SET ROLE` only to roles it is a member of (all
/// checked), and cannot grant itself superuser or a role it has no `ADMIN OPTION` on.
public enum PostgresRoleCheck {
  /// What the check found besides unfitness: how the server reads `'…'` strings.
  public struct Facts: Sendable, Hashable {
    public var role: String
    public var standardConformingStrings: Bool
  }

  /// Functions that act outside the transaction and that PostgreSQL does not grant to `PUBLIC` (a grant
  /// makes the role unfit); `dblink…` (granted to `PUBLIC` when installed) is matched by prefix.
  static let functions = [
    "lo_export", "lo_import", "pg_file_write", "pg_file_rename", "pg_file_unlink", "pg_file_sync",
    "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_reload_conf", "pg_rotate_logfile", "pg_promote",
    "pg_switch_wal", "pg_create_restore_point", "pg_backup_start", "pg_start_backup",
    "pg_log_backend_memory_contexts", "pg_replication_origin_create", "pg_replication_origin_drop",
  ]

  static func query(schemas: [String]) -> PostgresQuery {
    """
    WITH me AS (
      SELECT r.oid, r.rolname FROM pg_catalog.pg_roles r WHERE r.rolname IN (session_user, current_user)
    ), privileged AS (
      SELECT r.oid, r.rolname,
        CASE WHEN r.rolsuper THEN 'a superuser'
             WHEN r.rolreplication THEN 'a replication role'
             WHEN r.rolcreaterole THEN 'allowed to create roles (and so to grant itself pg_execute_server_program)'
             ELSE 'able to act on the server outside any transaction' END AS what
      FROM pg_catalog.pg_roles r
      WHERE r.rolsuper OR r.rolreplication OR r.rolcreaterole
         OR r.rolname IN ('pg_execute_server_program', 'pg_write_server_files', 'pg_read_server_files',
                          'pg_signal_backend')
    )
    SELECT 'member', CASE WHEN p.oid = me.oid THEN me.rolname || ' is ' || p.what
           WHEN p.rolname LIKE 'pg\\_%' THEN me.rolname || ' is a member of ' || p.rolname
           ELSE me.rolname || ' is a member of ' || p.rolname || ' (' || p.what || ')' END
    FROM me CROSS JOIN privileged p
    WHERE pg_catalog.pg_has_role(me.oid, p.oid, 'MEMBER')
       OR pg_catalog.pg_has_role(me.oid, p.oid, 'MEMBER WITH ADMIN OPTION')
    UNION ALL
    SELECT 'problem', 'it may execute ' || p.oid::pg_catalog.regprocedure::text
    FROM pg_catalog.pg_proc p
    WHERE (p.proname = ANY(\(functions)) OR p.proname LIKE 'dblink%')
      AND pg_catalog.has_function_privilege(current_user, p.oid, 'EXECUTE')
    UNION ALL
    SELECT 'problem', 'it may execute ' || p.oid::pg_catalog.regprocedure::text || ' (untrusted language '
      || l.lanname || ')'
    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid = p.prolang
    WHERE l.lanispl AND NOT l.lanpltrusted AND pg_catalog.has_function_privilege(current_user, p.oid, 'EXECUTE')
    UNION ALL
    SELECT 'problem', 'it may execute ' || p.oid::pg_catalog.regprocedure::text || ' (security definer, owned by '
      || o.rolname || ')'
    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_roles o ON o.oid = p.proowner
    WHERE p.prosecdef AND pg_catalog.has_function_privilege(current_user, p.oid, 'EXECUTE')
      AND EXISTS (SELECT 1 FROM privileged pr WHERE pg_catalog.pg_has_role(o.oid, pr.oid, 'USAGE'))
    UNION ALL
    SELECT 'problem', 'it may use the foreign server ' || s.srvname
    FROM pg_catalog.pg_foreign_server s WHERE pg_catalog.has_server_privilege(current_user, s.oid, 'USAGE')
    UNION ALL
    SELECT 'problem', 'it may use the foreign-data wrapper ' || w.fdwname
    FROM pg_catalog.pg_foreign_data_wrapper w
    WHERE pg_catalog.has_foreign_data_wrapper_privilege(current_user, w.oid, 'USAGE')
    UNION ALL
    SELECT 'owner', CASE WHEN EXISTS (
             SELECT 1 FROM privileged pr WHERE pg_catalog.pg_has_role(c.relowner, pr.oid, 'MEMBER'))
           THEN '' ELSE pg_catalog.pg_get_userbyid(c.relowner) END
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ANY(\(schemas)) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
    UNION ALL
    SELECT 'role', current_user::text
    UNION ALL
    SELECT 'setting', pg_catalog.current_setting('standard_conforming_strings')
    UNION ALL
    SELECT 'version', pg_catalog.current_setting('server_version_num')
    """
  }

  /// PostgreSQL 15+: superuser-only settings granted to the role (`GRANT SET ON PARAMETER`).
  static let parameterQuery: PostgresQuery = """
    SELECT 'it may set the superuser-only setting ' || a.parname
    FROM pg_catalog.pg_parameter_acl a
    WHERE pg_catalog.has_parameter_privilege(current_user, a.parname, 'SET')
       OR pg_catalog.has_parameter_privilege(current_user, a.parname, 'ALTER SYSTEM')
    """

  /// Throws `UnfitRoleError` when the session's role could act outside the transaction; `schemas` are the
  /// ones the migration touches (named in the recipe). Read-only; run before `BEGIN`.
  public static func check(_ session: PostgresWarehouse.ReadOnlySession, schemas: [String]) async throws
    -> Facts
  {
    var members: [String] = []
    var problems: [String] = []
    var owners: Set<String> = []
    var unfitOwner = false
    var role = ""
    var conforming = true
    var version = 0
    for row in try await session.query(query(schemas: schemas)) {
      let (kind, value) = try row.decode((String, String?).self)
      switch kind {
      case "member": if let value { members.append(value) }
      case "problem": if let value { problems.append(value) }
      case "owner":
        if let value, !value.isEmpty { owners.insert(value) } else { unfitOwner = true }
      case "role": role = value ?? ""
      case "setting": conforming = value != "off"
      case "version": version = Int(value ?? "") ?? 0
      default: break
      }
    }
    // A superuser may do everything; saying so is enough.
    // dblink's forty-odd functions are one problem.
    let dblink = problems.filter { $0.hasPrefix("it may execute dblink") }
    if let first = dblink.first {
      problems.removeAll { $0.hasPrefix("it may execute dblink") }
      let name = first.dropFirst("it may execute ".count)
      problems.insert("it may execute dblink's functions (\(dblink.count), e.g. \(name))", at: 0)
    }
    let superuser = members.filter { $0.hasSuffix(" is a superuser") }
    problems = superuser.isEmpty ? members + problems : superuser
    if version >= 150_000, problems.isEmpty {
      for row in try await session.query(parameterQuery) {
        if let value = try row.decode(String?.self) { problems.append(value) }
      }
    }
    if !problems.isEmpty {
      throw UnfitRoleError(
        role: role, problems: problems,
        recipe: recipe(schemas: schemas, owners: unfitOwner ? [] : owners.sorted(), unfitOwner: unfitOwner))
    }
    return Facts(role: role, standardConformingStrings: conforming)
  }

  /// The SQL that creates a role fit for `impact`, for the schemas the migration touches.
  static func recipe(schemas: [String], owners: [String], unfitOwner: Bool) -> String {
    let role = "driftwatch_impact"
    var sql =
      "CREATE ROLE \(role) LOGIN PASSWORD '…' NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS;"
    let names = Array(Set(schemas)).sorted().map(PostgresSession.quoted)
    if !names.isEmpty {
      sql += " GRANT USAGE, CREATE ON SCHEMA \(names.joined(separator: ", ")) TO \(role);"
    }
    if unfitOwner || owners.isEmpty {
      sql +=
        " GRANT app_owner TO \(role); (app_owner: an unprivileged role that owns the tables the migration "
        + "changes — ALTER TABLE needs ownership)"
    } else {
      sql += " GRANT \(owners.map(PostgresSession.quoted).joined(separator: ", ")) TO \(role);"
    }
    return sql
      + " — no membership in pg_execute_server_program, pg_write_server_files, pg_read_server_files or "
      + "pg_signal_backend, no EXECUTE on dblink, lo_export, lo_import or untrusted-language functions, no "
      + "foreign servers; add CREATEDB for --dbt-build"
  }
}

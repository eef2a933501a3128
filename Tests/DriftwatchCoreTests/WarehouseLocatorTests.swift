import DriftwatchCore
import Testing

@Suite("WarehouseLocator.parse")
struct WarehouseLocatorTests {
  private func postgres(_ text: String, _ environment: [String: String] = [:]) throws -> PostgresLocator {
    let locator = try WarehouseLocator.parse(text, environment: environment)
    guard case .postgres(let postgres) = locator else {
      Issue.record("expected a postgres locator for \(text), got \(locator)")
      throw InputError("not postgres")
    }
    return postgres
  }

  private func parseError(_ text: String, _ environment: [String: String] = [:]) -> WarehouseError? {
    do {
      let locator = try WarehouseLocator.parse(text, environment: environment)
      Issue.record("expected \(text) to be rejected, got \(locator)")
      return nil
    } catch let error as WarehouseError {
      return error
    } catch {
      Issue.record("unexpected error type \(type(of: error))")
      return nil
    }
  }

  @Test(
    "sqlite forms",
    arguments: [
      ("sqlite:warehouse.db", "warehouse.db"),
      ("sqlite:/abs/path/w.db", "/abs/path/w.db"),
      ("sqlite://relative/w.db", "relative/w.db"),
      ("sqlite:///abs/path/w.db", "/abs/path/w.db"),
      ("SQLite:dir with space/w.db", "dir with space/w.db"),
      ("  sqlite:w.db\n", "w.db"),
    ])
  func sqliteForms(text: String, path: String) throws {
    #expect(try WarehouseLocator.parse(text, environment: [:]) == .sqlite(path: path))
  }

  @Test func sqliteWithoutPathIsRejected() throws {
    for text in ["sqlite:", "sqlite://"] {
      let error = try #require(parseError(text))
      #expect(error.kind == .invalidURL)
      #expect(error.message.contains("use sqlite:PATH"))
    }
  }

  @Test func fullPostgresURL() throws {
    let locator = try postgres("postgres://app:s3cret@db.example.com:6543/acme?sslmode=require")
    #expect(
      locator
        == PostgresLocator(
          host: "db.example.com", port: 6543, user: "app", password: "s3cret", database: "acme",
          sslMode: .require))
  }

  @Test func postgresqlSchemeAndDefaults() throws {
    let locator = try postgres("postgresql://app@localhost/acme")
    #expect(locator.port == 5432)
    #expect(locator.password == nil)
    #expect(locator.sslMode == .prefer)
    #expect(locator.database == "acme")
  }

  @Test func databaseDefaultsToUser() throws {
    #expect(try postgres("postgres://app@127.0.0.1:5433").database == "app")
    #expect(try postgres("postgres://app@127.0.0.1:5433/").database == "app")
  }

  @Test func percentDecodesUserPasswordAndDatabase() throws {
    let locator = try postgres("postgres://us%40er:p%40ss%3Aw%2Fo%25rd@h/my%20db")
    #expect(locator.user == "us@er")
    #expect(locator.password == "p@ss:w/o%rd")
    #expect(locator.database == "my db")
  }

  @Test func unencodedAtInPasswordUsesLastAt() throws {
    let locator = try postgres("postgres://app:p@ss@h:5432/db")
    #expect(locator.user == "app")
    #expect(locator.password == "p@ss")
    #expect(locator.host == "h")
  }

  @Test func ipv6Host() throws {
    let locator = try postgres("postgres://app@[::1]:5999/acme")
    #expect(locator.host == "::1")
    #expect(locator.port == 5999)
    #expect(try postgres("postgres://app@[fe80::1]/acme").port == 5432)
  }

  @Test func unixSocketDirectoryHost() throws {
    let locator = try postgres("postgres://app@%2Fvar%2Frun%2Fpostgresql:5433/acme")
    #expect(locator.host == "/var/run/postgresql")
    #expect(locator.port == 5433)
  }

  @Test func environmentDefaults() throws {
    let environment = [
      "PGUSER": "envuser", "PGPASSWORD": "envpass", "PGHOST": "envhost", "PGPORT": "7000",
      "PGDATABASE": "envdb", "PGSSLMODE": "disable", "USER": "osuser",
    ]
    let locator = try postgres("postgres://", environment)
    #expect(
      locator
        == PostgresLocator(
          host: "envhost", port: 7000, user: "envuser", password: "envpass", database: "envdb",
          sslMode: .disable))
    // The URL wins over the environment.
    let explicit = try postgres("postgres://u:p@h:1/d?sslmode=require", environment)
    #expect(
      explicit
        == PostgresLocator(host: "h", port: 1, user: "u", password: "p", database: "d", sslMode: .require))
  }

  @Test func userFallsBackToOSUser() throws {
    let locator = try postgres("postgres://localhost/acme", ["USER": "osuser"])
    #expect(locator.user == "osuser")
    #expect(locator.host == "localhost")
  }

  @Test func passwordFromPGPASSWORDOnlyWhenAbsent() throws {
    #expect(try postgres("postgres://u@h/d", ["PGPASSWORD": "fromenv"]).password == "fromenv")
    #expect(try postgres("postgres://u:inurl@h/d", ["PGPASSWORD": "fromenv"]).password == "inurl")
  }

  @Test func missingUserIsRejected() throws {
    let error = try #require(parseError("postgres://localhost/acme", [:]))
    #expect(error.message.contains("neither PGUSER nor USER is set"))
    #expect(error.message.hasPrefix("invalid warehouse url 'postgres://localhost/acme': no user given"))
  }

  @Test func sslModes() throws {
    for mode in PostgresLocator.SSLMode.allCases {
      #expect(try postgres("postgres://u@h/d?sslmode=\(mode.rawValue)").sslMode == mode)
    }
    let error = try #require(parseError("postgres://u:hunter2@h/d?sslmode=verify-full"))
    #expect(error.kind == .invalidURL)
    #expect(error.message.contains("sslmode 'verify-full' is not supported"))
    #expect(error.message.contains("disable, prefer, require"))
    #expect(!error.message.contains("hunter2"))
  }

  @Test func unsupportedScheme() throws {
    let error = try #require(parseError("mysql://root:hunter2@db:3306/shop"))
    #expect(error.kind == .invalidURL)
    #expect(
      error.message
        == "unsupported warehouse url 'mysql://root:***@db:3306/shop': use sqlite:PATH or postgres://USER@HOST:PORT/DB"
    )
  }

  @Test func bareFileNameSuggestsSQLite() throws {
    let error = try #require(parseError("warehouse.db"))
    #expect(error.message.contains("sqlite:warehouse.db"))
  }

  @Test(
    "bad postgres urls never echo the password",
    arguments: [
      "postgres://app:hunter2@h:notaport/db",
      "postgres://app:hunter2@h:70000/db",
      "postgres://app:hunter2@h/db?sslmode=bogus",
      "postgres://app:hunter2@h/db?application_name=x",
      "postgres://app:hunter2@h/db?password=hunter2",
      "postgres://app:hunter2@[::1/db",
      "postgres://app:hunter2@h1,h2/db",
      "postgres://app:hunt%zzer2@h/db",
      "postgres://app:hunter2@h/db#frag",
      "postgres:app:hunter2@h/db",
      "postgres://app:hunter2/x@h:port/db",
      "mysql://app:hunter2@h/db",
      "app:hunter2@h/db",
      // The `@` forgotten: the password reads as a port.
      "postgres://app:hunter2/db",
      "postgres://app:hunter2",
      "postgresql://app:hunter2/x/db?sslmode=disable",
      "postgres://[::1]hunter2/db",
      "postgres://app:hunter2@h/db?hunter2",
    ])
  func badURLNeverEchoesPassword(text: String) throws {
    let error = try #require(parseError(text, ["USER": "someone"]))
    #expect(error.kind == .invalidURL)
    #expect(!error.message.contains("hunter2"))
    #expect(!error.message.contains("hunt"))
    #expect(!error.description.contains("hunter2"))
    #expect(error.message.first?.isLowercase == true)
  }

  @Test func redaction() {
    #expect(
      WarehouseLocator.redactingPassword(in: "postgres://app:secret@h:5432/db?sslmode=require")
        == "postgres://app:***@h:5432/db?sslmode=require")
    #expect(WarehouseLocator.redactingPassword(in: "postgres://app@h/db") == "postgres://app@h/db")
    #expect(
      WarehouseLocator.redactingPassword(in: "postgres://h/db?sslmode=disable&password=secret")
        == "postgres://h/db?sslmode=disable&password=***")
    #expect(WarehouseLocator.redactingPassword(in: "sqlite:a.db") == "sqlite:a.db")
    #expect(WarehouseLocator.redactingPassword(in: "postgres:app:secret@h/db") == "postgres:app:***@h/db")
    #expect(WarehouseLocator.redactingPassword(in: "app:secret@h/db") == "***@h/db")
  }

  @Test func redactionWithoutAnAt() {
    #expect(WarehouseLocator.redactingPassword(in: "postgres://user:Secret99/db") == "postgres://user:***")
    #expect(
      WarehouseLocator.redactingPassword(in: "postgres://user:Se/cret/db?sslmode=disable")
        == "postgres://user:***?sslmode=disable")
    // A port is not a password.
    #expect(WarehouseLocator.redactingPassword(in: "postgres://h:5432/db") == "postgres://h:5432/db")
  }

  @Test func portErrorDoesNotQuoteThePort() throws {
    let error = try #require(parseError("postgres://user:Secret99/db"))
    #expect(!error.message.contains("Secret99"))
    #expect(error.message.contains("USER:PASSWORD@HOST"))
    let fromEnvironment = try #require(parseError("postgres://u@h/db", ["PGPORT": "abc"]))
    #expect(fromEnvironment.message.contains("PGPORT is not a number"))
  }

  @Test func passwordCandidatesInArguments() {
    #expect(Redaction.candidates(inArgument: "postgres://u:Secret99/db").contains("Secret99"))
    #expect(Redaction.candidates(inArgument: "postgresql://:Secret99@h/db") == ["Secret99"])
    #expect(
      Set(Redaction.candidates(inArgument: "postgres://u:Sec%40ret@h:x/db")) == ["Sec%40ret", "Sec@ret"])
    #expect(Redaction.candidates(inArgument: "postgres://u:p@ss@h/db") == ["p@ss"])
    #expect(
      Redaction.candidates(inArgument: "postgres://u@h/db?sslmode=disable&password=pw%2Fx") == [
        "pw%2Fx", "pw/x",
      ])
    #expect(Redaction.candidates(inArgument: "postgres:u:secret@h/db") == ["secret"])
    // Nothing to hide: no password, a port, not a URL.
    #expect(Redaction.candidates(inArgument: "postgres://u@h:5432/db").isEmpty)
    #expect(Redaction.candidates(inArgument: "sqlite:/tmp/a:b.db").isEmpty)
    #expect(Redaction.candidates(inArgument: "stg_customers+").isEmpty)
  }

  @Test func redactReplacesEveryKnownSecret() {
    #expect(
      Redaction.redact("a Secret99 b Secret99/db c", secrets: ["Secret99", "Secret99/db"]) == "a *** b *** c")
    // Too short to search for without mangling the text.
    #expect(Redaction.redact("pw: the pwd", secrets: ["pw"]) == "pw: the pwd")
  }
}

import DriftwatchCore
import Foundation

/// How `DbtProjectReader` fills in what the project files alone do not say.
public struct DbtReadOptions: Sendable {
  /// For `{{ env_var('X') }}` in YAML values (source schemas and the like).
  public var environment: [String: String]
  /// The database of sources that declare none (dbt uses the target's `dbname`/`database`).
  public var defaultDatabase: String?
  /// `target.*` attributes for `{{ target.schema }}` and the like in YAML values (`name`, `schema`, …).
  public var target: [String: String]
  /// Read the packages installed in `dbt_packages/` (and `local:` packages of packages.yml) too.
  public var includePackages: Bool
  /// Free the parsed files once the graph is built (on another core). A command line that exits right
  /// after its answer sets this to `false`: the process's exit returns that memory at no cost.
  public var freeParsedFiles: Bool
  /// Keep the SQL of models, analyses and tests in the graph (`GraphNode.rawCode`): `check` reads it to see
  /// which columns a model uses; lineage does not, and a large project's SQL is then not held in memory.
  public var includeSQL: Bool
  /// Render the SQL nodes the scan leaves incomplete with the Jinja engine, as dbt parses them (see
  /// `IncompleteNodeRendering`). `false` leaves them marked as the scan found them.
  public var renderIncomplete = true
  /// dbt's `--vars`: a YAML or JSON mapping whose values win over every project's `vars:`, in the SQL, the yml
  /// and dbt_project.yml. Not a mapping, or not YAML, is an error when the project is read.
  public var vars: String?

  public init(
    environment: [String: String] = ProcessInfo.processInfo.environment, defaultDatabase: String? = nil,
    target: [String: String] = [:], includePackages: Bool = true, freeParsedFiles: Bool = true,
    includeSQL: Bool = true
  ) {
    self.environment = environment
    self.defaultDatabase = defaultDatabase
    self.target = target
    self.includePackages = includePackages
    self.freeParsedFiles = freeParsedFiles
    self.includeSQL = includeSQL
  }
}

/// Reads a dbt project from its files, as `dbt parse` would, without Python or a warehouse.
///
/// Reads `dbt_project.yml` (paths with dbt's defaults, `vars`, `+enabled`/`+tags` configs, the
/// `require_generic_test_arguments_property` flag), every `.yml`/`.yaml` under the project's paths
/// (`sources`, `models` with versions, `seeds`, `snapshots`, `exposures`, generic data tests in every
/// shape dbt accepts), models from `.sql` and `.py` files, snapshots (`{% snapshot %}` blocks and YAML
/// ones with `relation:`), analyses, singular tests (not under `tests/generic` or `tests/fixtures`), seeds
/// from `.csv`; and the packages installed under `dbt_packages/`, plus the `local:` packages listed in
/// packages.yml or dependencies.yml when they are not installed.
///
/// Unique ids are dbt's: `model.<pkg>.<name>` (`…<name>.v2` for versions), `source.<pkg>.<source>.<table>`,
/// `seed.…`, `snapshot.…`, `analysis.…`, `exposure.<pkg>.<name>`, singular tests `test.<pkg>.<file stem>`,
/// generic tests `test.<pkg>.<name>.<hash>` (see `GenericTestNaming`). File paths are dbt's
/// `original_file_path`: relative to the root of the package that holds the file.
///
/// Dependencies come from `JinjaScanner`, without rendering; the nodes the scan cannot read exactly (refs made
/// inside macros, under `{% if target… %}`, `ref(var(…))`, `config({…})`) are then rendered with dbt's
/// parse-time context (`IncompleteNodeRendering`), or stay marked incomplete. Disabled nodes (`config(enabled=false)`, `enabled: false` in YAML or
/// `+enabled: false` in dbt_project.yml) are left out, with the tests that depend on them, as dbt does.
/// Semantic models, metrics, saved queries and unit tests are read from the yml with the dependencies dbt gives
/// them. The yml values dbt renders (source locations, `config: enabled`/`tags`) and dbt_project.yml's
/// `+enabled` are rendered as dbt renders them (`YAMLValueRendering`), with `DbtReadOptions.vars` as `--vars`.
/// Not read: `.dbtignore`, source `overrides:`.
public enum DbtProjectReader {
  public static func read(projectDirectory: String) throws -> ProjectGraph {
    try read(projectDirectory: projectDirectory, options: DbtReadOptions())
  }

  public static func read(projectDirectory: String, options: DbtReadOptions) throws -> ProjectGraph {
    try FileReading.requireDirectory(projectDirectory, what: "project directory")
    let cliVars = try CLIVars.parse(options.vars)
    let cliText = Dictionary(cliVars.map { ($0.key.pythonStr, $0.value.pythonStr) }) { _, last in last }
    let root = try DbtProjectFile.load(
      directory: projectDirectory, displayPath: "dbt_project.yml", environment: options.environment,
      cliVars: cliText)
    var packages = [
      PackageContext(
        index: 0, directory: projectDirectory, displayPrefix: "", project: root, isRoot: true)
    ]
    if options.includePackages {
      packages += try PackageDiscovery.packages(
        root: root, directory: projectDirectory, options: options, cliVars: cliText)
    }
    let tasks = try FileDiscovery.tasks(for: packages)
    StepTrace.mark("read: files found")
    let includeSQL = options.includeSQL
    let loaded = FileReading.parallelMap(tasks) { task in LoadedFile.load(task, includeSQL: includeSQL) }
    StepTrace.mark("read: files parsed")
    var assembler = GraphAssembler(packages: packages, options: options, cliVars: cliVars)
    var graph = try assembler.assemble(loaded)
    if let cycle = graph.dependencyCycle() { throw DbtError.cycle(cycle) }
    if includeSQL {
      // `check` compiles the readers of changed sources against the live schema (`ReaderCompiler`).
      graph.readerCompiler = ReaderCompilerBox(
        ProjectReaderCompiler(
          packages: packages, macroTasks: tasks.filter { $0.kind == .macro }, options: options,
          cliVars: cliVars))
    }
    // Freeing tens of thousands of parsed files and YAML trees takes a while: let another core do it while
    // the caller goes on with the graph.
    Leftovers.release((consume loaded, consume assembler), free: options.freeParsedFiles)
    return graph
  }
}

// MARK: - Packages and files

struct PackageContext: Sendable {
  var index: Int
  /// Absolute or as-given directory of the package root.
  var directory: String
  /// How messages name the package's files, relative to the root project (`dbt_packages/utils/`).
  var displayPrefix: String
  var project: DbtProjectFile
  var isRoot: Bool

  var name: String { project.name }

  func display(_ originalPath: String) -> String { displayPrefix + originalPath }
}

enum PackageDiscovery {
  static func packages(
    root: DbtProjectFile, directory: String, options: DbtReadOptions, cliVars: [String: String] = [:]
  ) throws -> [PackageContext] {
    var found: [PackageContext] = []
    var names: Set<String> = [root.name]
    func add(_ packageDirectory: String, display: String) throws {
      // A folder without dbt_project.yml is no package; one that cannot be looked into is an error (skipping
      // it would drop its models without a word).
      var status = stat()
      guard stat(FileReading.join(packageDirectory, "dbt_project.yml"), &status) == 0 else {
        let problem = FileReading.Problem(code: errno)
        if problem.isMissing { return }
        throw DbtError(
          "cannot read this package (\(problem.reason)); make it readable by the user running driftwatch",
          file: String(display.dropLast(display.hasSuffix("/") ? 1 : 0)))
      }
      guard (status.st_mode & S_IFMT) == S_IFREG else { return }
      let project = try DbtProjectFile.load(
        directory: packageDirectory, displayPath: display + "dbt_project.yml",
        environment: options.environment, cliVars: cliVars)
      guard names.insert(project.name).inserted else { return }
      found.append(
        PackageContext(
          index: found.count + 1, directory: packageDirectory, displayPrefix: display, project: project,
          isRoot: false))
    }
    let installRoot = FileReading.join(directory, root.packagesInstallPath)
    switch FileReading.entries(of: installRoot) {
    case .success(let entries):
      for entry in entries.sorted() where !entry.hasPrefix(".") {
        try add(FileReading.join(installRoot, entry), display: "\(root.packagesInstallPath)/\(entry)/")
      }
    case .failure(let problem) where problem.isMissing: break
    case .failure(let problem):
      throw DbtError(
        "cannot read the installed packages (\(problem.reason)); make the folder readable by the user running "
          + "driftwatch",
        file: root.packagesInstallPath)
    }
    for file in ["packages.yml", "dependencies.yml"] {
      let path = FileReading.join(directory, file)
      let text: String
      switch FileReading.contents(of: path) {
      case .success(let contents): text = contents
      case .failure(let problem) where problem.isMissing: continue
      case .failure(let problem):
        throw DbtError(
          "cannot read \(file) (\(problem.reason)); make it readable by the user running driftwatch",
          file: file)
      }
      guard let yaml = try YAMLLoader.load(text, path: file) else { continue }
      for entry in yaml["packages"]?.items ?? [] {
        guard let local = entry["local"]?.string else { continue }
        var display = local
        if !display.hasSuffix("/") { display += "/" }
        try add(FileReading.join(directory, local), display: display)
      }
    }
    return found
  }
}

enum FileKind: Sendable {
  case model
  case pythonModel
  case snapshot
  case analysis
  case singularTest
  case seed
  case properties
  /// A `.sql` file under `macro-paths`: scanned only to learn which macros call ref/source/config.
  case macro
}

struct FileTask: Sendable {
  var kind: FileKind
  var package: Int
  var absolutePath: String
  /// dbt's `original_file_path`: relative to the package root (`models/staging/stg_orders.sql`).
  var originalPath: String
  /// Folders between the resource path and the file (`["staging"]`): the middle of the fqn.
  var folders: [String]
  var stem: String
  var displayPath: String
}

enum FileDiscovery {
  /// Every file dbt would read, walking each resource path once. A path listed under several settings
  /// (`model-paths` and `analysis-paths`, say) contributes its files to each.
  /// A folder under a resource path that cannot be listed, or a file dbt would read that cannot be reached (a
  /// link to nothing, a link loop), is an error: a project read in part would give a wrong answer.
  static func tasks(for packages: [PackageContext]) throws -> [FileTask] {
    var tasks: [FileTask] = []
    var seenProperties: Set<String> = []
    for package in packages {
      let project = package.project
      let models = Set(project.modelPaths)
      let snapshots = Set(project.snapshotPaths)
      let analyses = Set(project.analysisPaths)
      let tests = Set(project.testPaths)
      let seeds = Set(project.seedPaths)
      let macros = Set(project.macroPaths)
      for resourcePath in project.allResourcePaths {
        let base = FileReading.join(package.directory, resourcePath)
        let listing = FileReading.files(under: base)
        for (relative, isFolder, problem) in listing.problems where isFolder || readsFiles(named: relative) {
          let original =
            relative.isEmpty ? resourcePath : resourcePath == "." ? relative : "\(resourcePath)/\(relative)"
          throw DbtError(
            "cannot read this \(isFolder ? "folder" : "file") of the project (\(problem.reason)); make it "
              + "readable by the user running driftwatch, or remove it",
            file: package.display(original))
        }
        for relative in listing.files {
          // Byte-wise (no grapheme breaking): tens of thousands of paths.
          let components = relative.utf8.split(separator: UInt8(ascii: "/")).map {
            String(decoding: $0, as: UTF8.self)
          }
          guard let fileName = components.last, let dot = fileName.utf8.lastIndex(of: UInt8(ascii: "."))
          else { continue }
          let stem = String(fileName[..<dot])
          let fileExtension = fileName[fileName.utf8.index(after: dot)...]
          let folders = Array(components.dropLast())
          var kinds: [FileKind] = []
          switch fileExtension {
          case "sql":
            if models.contains(resourcePath) { kinds.append(.model) }
            if snapshots.contains(resourcePath) { kinds.append(.snapshot) }
            if analyses.contains(resourcePath) { kinds.append(.analysis) }
            if tests.contains(resourcePath), folders.first != "generic", folders.first != "fixtures" {
              kinds.append(.singularTest)
            }
            // dbt reads `tests/generic/` as macro files: the generic test definitions (`{% test x %}`) live there.
            if macros.contains(resourcePath)
              || (tests.contains(resourcePath) && folders.first == "generic")
            {
              kinds.append(.macro)
            }
          case "py":
            if models.contains(resourcePath) { kinds.append(.pythonModel) }
          case "csv":
            if seeds.contains(resourcePath) { kinds.append(.seed) }
          case "yml", "yaml":
            kinds.append(.properties)
          default:
            break
          }
          guard !kinds.isEmpty else { continue }
          let original = resourcePath == "." ? relative : "\(resourcePath)/\(relative)"
          let absolute = FileReading.join(base, relative)
          for kind in kinds {
            if kind == .properties && !seenProperties.insert(absolute).inserted { continue }
            tasks.append(
              FileTask(
                kind: kind, package: package.index, absolutePath: absolute, originalPath: original,
                folders: folders, stem: stem, displayPath: package.display(original)))
          }
        }
      }
    }
    return tasks
  }
}

extension FileDiscovery {
  /// Whether dbt reads files with this name: `.sql`, `.py`, `.csv`, `.yml`, `.yaml`.
  static func readsFiles(named name: String) -> Bool {
    guard let dot = name.lastIndex(of: "."), !name[dot...].contains("/") else { return false }
    return ["sql", "py", "csv", "yml", "yaml"].contains(name[name.index(after: dot)...])
  }
}

/// One file, read and parsed (on any thread).
struct LoadedFile: Sendable {
  enum Content: Sendable {
    case sql(text: String, scan: JinjaScan)
    case yaml(YAMLNode?)
    case seed
    case failed(DbtError)
  }

  var task: FileTask
  var content: Content
  /// What dbt would warn about in the file (a repeated yml key).
  var warnings: [ProjectWarning] = []

  /// Without `includeSQL`, a model's, analysis's or test's text is dropped once scanned (a snapshot's is
  /// kept: its blocks are cut from it).
  static func load(_ task: FileTask, includeSQL: Bool = true) -> LoadedFile {
    if task.kind == .seed { return LoadedFile(task: task, content: .seed) }
    let text: String
    switch FileReading.contents(of: task.absolutePath) {
    case .success(let contents): text = contents
    case .failure(let problem):
      return LoadedFile(
        task: task,
        content: .failed(
          DbtError(
            "cannot read this file of the project (\(problem.reason)); make it readable by the user running "
              + "driftwatch, or remove it",
            file: task.displayPath)))
    }
    do {
      switch task.kind {
      case .properties:
        let (root, duplicates) = try YAMLLoader.loadAcceptingDuplicates(text, path: task.displayPath)
        return LoadedFile(
          task: task, content: .yaml(root),
          warnings: duplicates.map { ProjectWarning.duplicateKey($0, file: task.displayPath) })
      case .macro:
        return LoadedFile(task: task, content: .sql(text: "", scan: try JinjaScanner.scan(text)))
      case .pythonModel:
        let scan = try JinjaScanner.scanPython(text)
        return LoadedFile(task: task, content: .sql(text: includeSQL ? text : "", scan: scan))
      case .snapshot:
        return LoadedFile(task: task, content: .sql(text: text, scan: try JinjaScanner.scan(text)))
      default:
        let scan = try JinjaScanner.scan(text)
        return LoadedFile(task: task, content: .sql(text: includeSQL ? text : "", scan: scan))
      }
    } catch let error as DbtError {
      return LoadedFile(task: task, content: .failed(error))
    } catch let error as JinjaScanError {
      return LoadedFile(
        task: task,
        content: .failed(
          DbtError(error.message, file: task.displayPath, line: error.line)))
    } catch {
      return LoadedFile(task: task, content: .failed(DbtError("\(error)", file: task.displayPath)))
    }
  }
}

extension ProjectWarning {
  /// dbt's `DuplicateYAMLKeysDeprecation`: the file still loads, the last value wins.
  static func duplicateKey(_ duplicate: YAMLLoader.DuplicateKey, file: String) -> ProjectWarning {
    ProjectWarning(
      file: file, line: duplicate.line,
      message:
        "duplicate key `\(duplicate.key)` in one mapping; the last one is used, as dbt does (dbt warns "
        + "too); keep one of them")
  }
}

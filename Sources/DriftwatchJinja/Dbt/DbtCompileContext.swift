/// A column as `adapter.get_columns_in_relation` returns it.
public struct DbtColumnInfo: Sendable, Hashable {
  public var name: String
  public var dataType: String

  public init(name: String, dataType: String) {
    self.name = name
    self.dataType = dataType
  }
}

/// What dbt's compile-time context asks the warehouse and the graph, answered by the caller from values it
/// already holds (the live schema driftwatch read, the project graph): no I/O here.
public protocol DbtCompileCatalog: AnyObject {
  /// The relation `source(name, table)` compiles to; `nil`: no such source (the render fails).
  func source(_ sourceName: String, _ table: String) -> DbtRelation?
  /// The relation `ref(…)` compiles to; `nil`: no such node (the render fails).
  func ref(_ ref: DbtRef) -> DbtRelation?
  /// The relation's columns; throws when they are not known (the render fails: the node is not rendered).
  /// `approximate` is set when the list is inferred rather than read.
  func columns(in relation: DbtRelation, approximate: inout String?) throws -> [DbtColumnInfo]
  /// `adapter.get_relation(database, schema, identifier)`: the relation when the warehouse has it.
  func relation(database: String?, schema: String?, identifier: String) -> DbtRelation?
}

/// dbt's context as `dbt compile` renders a node (`execute` true): `ref`/`source` give the relations they
/// compile to, and introspection (`adapter.get_columns_in_relation`, `adapter.get_relation`, and the helpers
/// built on them such as `dbt_utils.star`) is answered by a `DbtCompileCatalog`. What needs a real query
/// (`run_query`, `statement` … `load_result`) is noted in `approximations` and answers an empty result.
/// Everything else is the parse-time context's (`DbtParseContext`: vars, target, dispatch, config …).
public final class DbtCompileContext: ContextProvider {
  public let parse: DbtParseContext
  let catalog: DbtCompileCatalog
  /// Why the render is not exactly what dbt runs (`run_query(…)`, an inferred column list), in order.
  public private(set) var approximations: [String] = []
  private var cache: [String: Value] = [:]

  public init(parse: DbtParseContext, catalog: DbtCompileCatalog) {
    self.parse = parse
    self.catalog = catalog
  }

  public var macroScope: MacroScope { parse.macroScope }

  public func undefinedCall(_ name: String, file: String?, line: Int) {
    parse.undefinedCall(name, file: file, line: line)
  }

  func approximate(_ why: String) {
    if !approximations.contains(why) { approximations.append(why) }
  }

  public func value(named name: String, renderer: Renderer) -> Value? {
    if let cached = cache[name] { return cached }
    guard let made = make(name, renderer: renderer) else {
      return parse.value(named: name, renderer: renderer)
    }
    cache[name] = made
    return made
  }

  func make(_ name: String, renderer: Renderer) -> Value? {
    switch name {
    case "execute": return .bool(true)
    case "ref": return .function(Function("ref") { [weak self] args in try self?.ref(args) ?? .none })
    case "source":
      return .function(Function("source") { [weak self] args in try self?.source(args) ?? .none })
    case "adapter":
      return .object(DbtCompileAdapter(context: self, inner: DbtAdapter(context: parse, renderer: renderer)))
    case "run_query":
      return .function(
        Function("run_query") { [weak self] _ in
          self?.approximate("run_query(…) needs a real query")
          return .object(DbtEmptyTable())
        })
    case "statement":
      return .function(
        Function("statement") { [weak self] _ in
          self?.approximate("statement(…) needs a real query")
          return .string("")
        })
    case "load_result":
      return .function(
        Function("load_result") { [weak self] _ in
          self?.approximate("load_result(…) needs a real query")
          return .dict([("data", .list([])), ("table", .object(DbtEmptyTable()))])
        })
    case "flags": return DbtParseContext.flags(which: "compile")
    case "builtins":
      return DbtParseContext.builtins(
        ref: make("ref", renderer: renderer), source: make("source", renderer: renderer),
        config: parse.value(named: "config", renderer: renderer))
    default: return nil
    }
  }

  func ref(_ args: Arguments) throws -> Value {
    _ = try parse.ref(args)
    guard let call = parse.recorder.refs.last else { return .none }
    guard let relation = catalog.ref(call) else {
      throw JinjaError(.raised, "ref(\(call)) names no node of the project")
    }
    return .object(relation)
  }

  func source(_ args: Arguments) throws -> Value {
    _ = try parse.source(args)
    guard let call = parse.recorder.sources.last else { return .none }
    guard let relation = catalog.source(call.source, call.table) else {
      throw JinjaError(.raised, "source('\(call.source)', '\(call.table)') names no source of the project")
    }
    return .object(relation)
  }

  func columns(_ relationValue: Value?) throws -> Value {
    guard case .object(let relation as DbtRelation)? = relationValue else {
      throw JinjaError(.type, "get_columns_in_relation needs a relation")
    }
    var approximate: String?
    let columns = try catalog.columns(in: relation, approximate: &approximate)
    if let approximate { self.approximate(approximate) }
    return .list(ListRef(columns.map { .object(DbtColumnObject($0, quoteCharacter: parse.quoteCharacter)) }))
  }
}

/// `adapter` at compile time: the parse-time adapter with introspection (every `DbtAdapterIntrospection`
/// method) answered by the catalog.
final class DbtCompileAdapter: JinjaObject {
  weak var context: DbtCompileContext?
  let inner: DbtAdapter
  init(context: DbtCompileContext, inner: DbtAdapter) {
    self.context = context
    self.inner = inner
  }
  var typeName: String { "adapter" }

  func attribute(_ name: String) -> Value? {
    guard let method = DbtAdapterIntrospection(rawValue: name) else { return inner.attribute(name) }
    switch method {
    case .getColumnsInRelation, .getColumnsInTable:
      return .function(
        Function(name) { [weak self] args in
          guard let context = self?.context else { return .list([]) }
          if name == "get_columns_in_table" {
            let relation = context.catalog.relation(
              database: nil, schema: args.value(0, "schema")?.str,
              identifier: args.value(1, "identifier")?.str ?? "")
            return try context.columns(relation.map(Value.object))
          }
          return try context.columns(args.value(0, "relation"))
        })
    case .getRelation, .loadRelation:
      return .function(
        Function(name) { [weak self] args in
          guard let context = self?.context else { return .none }
          if name == "load_relation" {
            guard case .object(let given as DbtRelation)? = args.value(0, "relation") else { return .none }
            return context.catalog.relation(
              database: given.database, schema: given.schema, identifier: given.identifier ?? ""
            ).map(Value.object) ?? .none
          }
          func text(_ index: Int, _ key: String) -> String? {
            guard let v = args.value(index, key), !v.isNone, !v.isUndefined else { return nil }
            return v.str
          }
          return context.catalog.relation(
            database: text(0, "database"), schema: text(1, "schema"), identifier: text(2, "identifier") ?? ""
          ).map(Value.object) ?? .none
        })
    case .getMissingColumns:
      return .function(
        Function(name) { [weak self] args in
          guard let context = self?.context else { return .list([]) }
          let from = try context.columns(args.value(0, "from_relation"))
          let to = try context.columns(args.value(1, "to_relation"))
          let present = Set(
            (try? Attributes.iterateSimple(to))?.compactMap {
              ($0.objectValue as? DbtColumnObject)?.info.name.lowercased()
            }
              ?? [])
          let missing = ((try? Attributes.iterateSimple(from)) ?? []).filter {
            guard let column = $0.objectValue as? DbtColumnObject else { return false }
            return !present.contains(column.info.name.lowercased())
          }
          return .list(ListRef(missing))
        })
    case .listRelationsWithoutCaching, .listSchemas, .checkSchemaExists, .alreadyExists:
      return .function(
        Function(name) { [weak self] _ in
          self?.context?.approximate("adapter.\(name)(…) needs a real query")
          return name == "check_schema_exists" || name == "already_exists" ? .bool(true) : .list([])
        })
    }
  }
}

extension Value {
  /// The object a value holds, if any.
  var objectValue: (any JinjaObject)? {
    if case .object(let object) = self { return object }
    return nil
  }
}

/// A column as dbt's `Column` presents it to macros.
final class DbtColumnObject: JinjaObject {
  let info: DbtColumnInfo
  let quoteCharacter: String
  init(_ info: DbtColumnInfo, quoteCharacter: String) {
    self.info = info
    self.quoteCharacter = quoteCharacter
  }
  var typeName: String { "Column" }
  var rendered: String { "<Column \(info.name) (\(info.dataType))>" }

  func attribute(_ name: String) -> Value? {
    let type = info.dataType.lowercased()
    func predicate(_ value: Bool) -> Value { .function(Function(name) { _ in .bool(value) }) }
    let isString = ["char", "text", "string", "varchar"].contains { type.contains($0) }
    let isInteger = ["int", "serial"].contains { type.contains($0) } && !type.contains("interval")
    let isFloat = ["float", "double", "real"].contains { type.contains($0) }
    let isNumeric = type.hasPrefix("numeric") || type.hasPrefix("decimal") || type.hasPrefix("number")
    switch name {
    case "name", "column": return .string(info.name)
    case "quoted": return .string(quoteCharacter + info.name + quoteCharacter)
    case "data_type", "dtype": return .string(info.dataType)
    case "char_size", "numeric_precision", "numeric_scale": return .none
    case "is_string": return predicate(isString)
    case "is_integer": return predicate(isInteger)
    case "is_float": return predicate(isFloat)
    case "is_numeric": return predicate(isNumeric)
    case "is_number": return predicate(isInteger || isFloat || isNumeric)
    case "string_size": return .function(Function(name) { _ in .int(256) })
    default: return nil
    }
  }
}

/// The empty result a query that driftwatch does not run stands for (`run_query`'s agate table).
final class DbtEmptyTable: JinjaObject, IterableObject {
  var typeName: String { "Table" }
  var iterationItems: [Value] { [] }
  func attribute(_ name: String) -> Value? {
    switch name {
    case "columns", "rows", "column_names", "column_types": return .list([])
    case "print_table": return .function(Function(name) { _ in .string("") })
    default: return nil
    }
  }
}

import DriftwatchJinja
import Foundation
import Testing

/// Errors are typed, name the file, the line and the construct; what the engine lacks is `.unsupported`.
@Suite struct JinjaErrorTests {
  func failure(_ source: String, _ context: [String: Value] = [:], file: String = "models/m.sql")
    -> JinjaError?
  {
    do {
      _ = try Template(source, file: file).render(context)
      return nil
    } catch let error as JinjaError {
      return error
    } catch {
      return nil
    }
  }

  @Test func syntaxErrorsNameFileAndLine() {
    let e = failure("select 1\n{% if %}\n{% endif %}")
    #expect(e?.kind == .syntax)
    #expect(e?.file == "models/m.sql")
    #expect(e?.line == 2)
    let unclosed = failure("a\n\n{% for x in y %}\nb")
    #expect(unclosed?.kind == .syntax)
    #expect(unclosed?.message.contains("'endfor'") == true)
  }

  @Test func unsupportedTagsFiltersTestsAndLoopsAreExplicit() {
    let tag = failure("\n{% include 'other.sql' %}")
    #expect(tag?.kind == .unsupported)
    #expect(tag?.line == 2)
    #expect(tag?.construct == "{% include %}")

    let filter = failure("{{ 'a' }}\n\n{{ 'x' | urlize }}")
    #expect(filter?.kind == .unsupported)
    #expect(filter?.line == 3)
    #expect(filter?.construct == "filter 'urlize'")
    #expect(
      filter?.message
        == "models/m.sql:3: unsupported: the filter 'urlize' is not supported (in filter 'urlize')")

    let test = failure("{% if 1 is prime %}{% endif %}")
    #expect(test?.kind == .unsupported)
    #expect(test?.construct == "test 'prime'")

    let recursive = failure("{% for x in [1] recursive %}{% endfor %}")
    #expect(recursive?.kind == .unsupported)
    #expect(recursive?.construct == "{% for %}")
  }

  @Test func unsupportedModuleMembersAreExplicitWhenCalled() throws {
    let template = try Template(
      "{{ modules.datetime.datetime.strptime('2020', '%Y') }}", file: "models/d.sql")
    let ctx = DbtParseContext(rootProject: "p")
    #expect {
      _ = try ctx.render(template, library: MacroLibrary())
    } throws: { error in
      (error as? JinjaError).map { $0.kind == .unsupported && $0.detail.contains("strptime") } ?? false
    }
  }

  @Test func runtimeErrorsAreTyped() {
    #expect(failure("{{ missing + 1 }}")?.kind == .undefined)
    #expect(failure("{{ missing + 1 }}")?.detail == "'missing' is undefined")
    #expect(failure("{{ 'a' + 1 }}")?.kind == .type)
    #expect(failure("{{ 1 // 0 }}")?.kind == .value)
    #expect(failure("{% set a, b = [1] %}")?.kind == .value)
    #expect(failure("{{ {[1]: 2} }}")?.kind == .type)
    #expect(failure("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}")?.kind == .type)
  }

  @Test func errorsInsideMacrosNameTheMacroFile() throws {
    var library = MacroLibrary()
    try library.add(
      source: "{% macro bad() %}\n\n{{ 1 + 'x' }}{% endmacro %}", file: "macros/bad.sql", package: "p")
    let template = try Template("{{ bad() }}", file: "models/m.sql")
    #expect {
      _ = try template.render(
        provider: nil, library: library, scope: MacroScope(rootPackage: "p", localPackage: "p"))
    } throws: { error in
      guard let e = error as? JinjaError else { return false }
      return e.kind == .type && e.file == "macros/bad.sql" && e.line == 3
    }
  }

  @Test func runawayRecursionIsAnErrorNotACrash() {
    let e = failure("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")
    #expect(e?.kind == .value)
    #expect(e?.detail.contains("recursion") == true)
  }

  @Test func deepButFiniteRecursionRenders() throws {
    let template = try Template(
      "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% else %}done{% endif %}{% endmacro %}{{ f(depth) }}")
    #expect(try template.render(["depth": .int(30)]) == "done")
  }

  @Test func returnOutsideAMacroIsAnError() throws {
    let ctx = DbtParseContext(rootProject: "p")
    #expect(throws: JinjaError.self) {
      _ = try ctx.render(try Template("{{ return(1) }}"), library: MacroLibrary())
    }
  }

  @Test func customFiltersAndTestsFromTheEnvironment() throws {
    var environment = Environment()
    environment.filters["shout"] = { value, _ in .string(value.str.uppercased() + "!") }
    environment.tests["short"] = { value, args in
      value.str.count < (args.positional.first.flatMap { if case .int(let i) = $0 { i } else { nil } } ?? 3)
    }
    let template = try environment.template(
      "{{ 'hi' | shout }} {{ 'hi' is short }} {{ 'hello' is short(4) }}")
    #expect(try template.render() == "HI! True False")
  }
}

@Suite struct JinjaStackTests {
  /// The recursion limit holds on a thread with a small (512 KiB, Dispatch's) stack, in debug builds too,
  /// with loops, conditions and filters on the recursive path: an error, not a crash.
  @Test(arguments: [
    "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
    "{% macro f(n) %}{% for i in [1] %}{% if true %}{% set x %}{{ f(n + 1) | trim }}{% endset %}{{ x }}"
      + "{% endif %}{% endfor %}{% endmacro %}{{ f(0) }}",
  ])
  func runawayRecursionOnASmallStack(_ source: String) async {
    let result: String = await withCheckedContinuation { continuation in
      let thread = Thread {
        do {
          _ = try Template(source).render()
          continuation.resume(returning: "rendered")
        } catch let error as JinjaError {
          continuation.resume(returning: error.kind.rawValue)
        } catch {
          continuation.resume(returning: "other")
        }
      }
      thread.stackSize = 512 * 1024
      thread.start()
    }
    #expect(result == "value")
  }
}

@Suite struct JinjaHostileInputTests {
  /// Deep nesting is a syntax error, not a stack overflow, on a 512 KiB thread in debug builds.
  @Test(arguments: [
    "{{ " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000) + " }}",
    "{{ " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + " }}",
    "{{ " + String(repeating: "not ", count: 5000) + "1 }}",
    "{{ " + String(repeating: "-", count: 5000) + "1 }}",
    "{{ x" + String(repeating: " | default(x", count: 3000) + String(repeating: ")", count: 3000) + " }}",
    String(repeating: "{% if true %}", count: 3000) + String(repeating: "{% endif %}", count: 3000),
    String(repeating: "{% for x in [1] %}", count: 3000) + String(repeating: "{% endfor %}", count: 3000),
  ])
  func deepNestingIsASyntaxError(_ source: String) async {
    let kind: String = await withCheckedContinuation { continuation in
      let thread = Thread {
        do {
          _ = try Template(source).render()
          continuation.resume(returning: "rendered")
        } catch let error as JinjaError {
          continuation.resume(returning: error.kind.rawValue)
        } catch {
          continuation.resume(returning: "other")
        }
      }
      thread.stackSize = 512 * 1024
      thread.start()
    }
    #expect(kind == "syntax")
  }

  /// Nesting just inside the limits parses and renders on the same small stack.
  @Test(arguments: [
    String(repeating: "{% for x in [1] %}{% if true %}{% set y %}", count: 13) + "deep"
      + String(repeating: "{% endset %}{{ y }}{% endif %}{% endfor %}", count: 13),
    "{{ " + String(repeating: "(", count: 49) + "'deep'" + String(repeating: ")", count: 49) + " }}",
  ])
  func nestingWithinTheLimitsRenders(_ source: String) async {
    let output: String = await withCheckedContinuation { continuation in
      let thread = Thread {
        continuation.resume(returning: (try? Template(source).render()) ?? "error")
      }
      thread.stackSize = 512 * 1024
      thread.start()
    }
    #expect(output == "deep")
  }

  /// Truncated and malformed input gives one syntax error.
  @Test(arguments: [
    "{{", "{%", "{#", "{{ 'unterminated }}", "{% raw %}never closed", "{{ a. }}", "{{ a[ }}", "{{ f(a=) }}",
    "{% set %}", "{% for in x %}{% endfor %}", "{% macro (x) %}{% endmacro %}", "{{ 1 2 }}", "{% endif %}",
    "{{ } }}", "{{ 0x }}", "{{ '\\x4' }}", "{% if x %}{% else %}{% else %}{% endif %}",
  ])
  func malformedInputIsASyntaxError(_ source: String) {
    #expect {
      _ = try Template(source, file: "models/bad.sql").render()
    } throws: { error in
      guard let e = error as? JinjaError else { return false }
      return e.kind == .syntax && e.file == "models/bad.sql" && e.line == 1
    }
  }
}

import AgentCore
import Testing

@Suite struct JSONSchemaTests {
    let schema: JSONSchema = JSONSchema([
        "type": "object",
        "properties": [
            "command": ["type": "string", "minLength": 1],
            "count": ["type": "integer", "minimum": 1, "maximum": 10],
            "mode": ["enum": ["fast", "slow"]],
            "tags": ["type": "array", "items": ["type": "string"], "maxItems": 2],
            "opt": ["type": ["string", "null"]],
            "inner": ["type": "object", "properties": ["x": ["type": "number"]], "required": ["x"], "additionalProperties": false],
            "id": ["type": "string", "pattern": "^[a-z]+-[0-9]+$"],
            "kind": ["const": "file"],
            "either": ["anyOf": [["type": "integer"], ["type": "string", "maxLength": 2]]],
            "one": ["oneOf": [["type": "integer"], ["type": "number"]]],
        ],
        "required": ["command"],
        "additionalProperties": false,
    ])

    func error(_ args: JSONValue) -> String? { schema.firstError(args) }

    @Test func acceptsValid() {
        #expect(error(["command": "ls", "count": 3, "mode": "fast", "tags": ["a"], "opt": nil, "inner": ["x": 1.5],
                       "id": "ab-12", "kind": "file", "either": "ab"]) == nil)
        #expect(error(["command": "ls", "count": 3.0]) == nil)  // 3.0 is an integer in JSON Schema
    }

    @Test(arguments: [
        (["command": 1] as JSONValue, "arguments.command: expected string, got integer"),
        (["count": 2], "arguments: missing required property 'command'"),
        (["command": "", "x": 1], "arguments.command: expected at least 1 character, got 0"),
        (["command": "a", "count": 0], "arguments.count: expected >= 1, got 0"),
        (["command": "a", "count": 11], "arguments.count: expected <= 10, got 11"),
        (["command": "a", "count": 1.5], "arguments.count: expected integer, got number"),
        (["command": "a", "mode": "medium"], "arguments.mode: expected one of \"fast\", \"slow\", got \"medium\""),
        (["command": "a", "tags": ["a", 2]], "arguments.tags[1]: expected string, got integer"),
        (["command": "a", "tags": ["a", "b", "c"]], "arguments.tags: expected at most 2 items, got 3"),
        (["command": "a", "opt": 5], "arguments.opt: expected string or null, got integer"),
        (["command": "a", "inner": [:]], "arguments.inner: missing required property 'x'"),
        (["command": "a", "inner": ["x": 1, "y": 2]], "arguments.inner.y: unexpected property (allowed: x)"),
        (["command": "a", "bogus": true], "arguments.bogus: unexpected property (allowed: command, count, mode, tags, opt, inner, id, kind, either, one)"),
        (["command": "a", "id": "AB-1"], "arguments.id: \"AB-1\" does not match pattern '^[a-z]+-[0-9]+$'"),
        (["command": "a", "kind": "dir"], "arguments.kind: expected \"file\", got \"dir\""),
        (["command": "a", "either": "abc"], "arguments.either: matches none of the 2 anyOf alternatives (first: arguments.either: expected integer, got string)"),
        (["command": "a", "one": 1], "arguments.one: matches 2 of the oneOf alternatives, expected exactly one"),
        ("ls", "arguments: expected object, got string"),
    ] as [(JSONValue, String)])
    func reportsOneLineErrors(args: JSONValue, expected: String) {
        #expect(error(args) == expected)
    }

    @Test func collectsSeveralErrorsAndQuotesOddKeys() {
        let s = JSONSchema(["type": "object", "properties": ["a b": ["type": "integer"]], "required": ["c"]])
        let errors = s.validate(["a b": "x"]).map(\.description)
        #expect(errors == ["arguments: missing required property 'c'", "arguments[\"a b\"]: expected integer, got string"])
    }

    @Test func resolvesLocalReferences() {
        let s = JSONSchema(["type": "object", "properties": ["p": ["$ref": "#/$defs/point"]],
                            "$defs": ["point": ["type": "object", "required": ["x"]]]])
        #expect(s.firstError(["p": [:]]) == "arguments.p: missing required property 'x'")
        #expect(s.firstError(["p": ["x": 1]]) == nil)
        #expect(JSONSchema(false).firstError(1) == "arguments: no value is allowed here")
    }
}

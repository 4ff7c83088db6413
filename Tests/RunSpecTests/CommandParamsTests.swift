// CommandParamsTests: params' placeholder texts, canonical JSON, the JSON they are read back from, names and cell ids.
import Testing

@testable import RunSpec

@Suite struct CommandParamsTests {
    static let dataset = String(repeating: "ab", count: 32)

    static let sample = CommandParams([
        "dropout": .scalar(.number(0.1)), "layers": .list([.integer(64), .integer(32)]),
        "name": .scalar(.text("a \"b\"\n")),
        "use_bn": .scalar(.bool(true)), "width": .scalar(.integer(4)), "tiny": .scalar(.number(1e-5)),
        "whole": .scalar(.number(1.0)), "mixed": .list([.text("x"), .number(2.5), .bool(false)]),
    ])

    @Test func placeholderTexts() {
        let texts = Self.sample.placeholderValues
        #expect(texts["dropout"] == "0.1")
        #expect(texts["layers"] == "64,32")
        #expect(texts["name"] == "a \"b\"\n")
        #expect(texts["use_bn"] == "true")
        #expect(texts["width"] == "4")
        #expect(texts["tiny"] == "1e-05")
        #expect(texts["whole"] == "1.0")
        #expect(texts["mixed"] == "x,2.5,false")
        #expect(CommandParams.environmentName("dropout") == "ABLATE_PARAM_DROPOUT")
    }

    @Test func canonicalJSONSortsKeysWithoutWhitespace() {
        #expect(
            Self.sample.canonicalJSON
                == #"{"dropout":0.1,"layers":[64,32],"mixed":["x",2.5,false],"name":"a \"b\"\u000a","tiny":1e-05,"#
                + #""use_bn":true,"whole":1.0,"width":4}"#)
        #expect(CommandParams.none.canonicalJSON == "{}")
    }

    @Test func jsonReadsBackExactly() throws {
        #expect(try CommandParams(json: Self.sample.canonicalJSON) == Self.sample)
        #expect(
            try CommandParams(json: " { \"a\" : [ ] , \"b\" : -0.5e+2 } ")
                == CommandParams(["a": .list([]), "b": .scalar(.number(-50))]))
        #expect(
            try CommandParams(json: #"{"s":"\u00e9\ud83d\ude00\/"}"#) == CommandParams(["s": .scalar(.text("é😀/"))]))
        // 1.0 stays a number and 1 an integer: their placeholder texts differ.
        #expect(try CommandParams(json: #"{"a":1.0,"b":1}"#).placeholderValues == ["a": "1.0", "b": "1"])
    }

    @Test func badJSONIsRefused() {
        for text in [
            "", "[]", "{", #"{"a":null}"#, #"{"a":{"b":1}}"#, #"{"a":[[1]]}"#, #"{"a":1,"a":2}"#, #"{"1a":1}"#,
            #"{"a":01}"#,
            #"{"a":1e999}"#, #"{"a":99999999999999999999}"#, #"{"a":1} x"#, #"{"a":"\ud83d"}"#, #"{"a":tru}"#,
            "{\"a\":\"\u{1}\"}",
        ] {
            #expect(throws: CommandParamsError.self, "\(text)") { try CommandParams(json: text) }
        }
    }

    @Test func names() {
        #expect(CommandParams.nameProblem("dropout") == nil)
        #expect(CommandParams.nameProblem("_x9") == nil)
        #expect(CommandParams.nameProblem(String(repeating: "a", count: 64)) == nil)
        #expect(CommandParams.nameProblem(String(repeating: "a", count: 65)) != nil)
        #expect(CommandParams.nameProblem("9x") != nil)
        #expect(CommandParams.nameProblem("a-b") != nil)
        #expect(CommandParams.nameProblem("é") != nil)
        #expect(CommandParams.nameProblem("") != nil)
        let keys = Set(SettingsTable.keys)
        #expect(CommandParams.clashProblem("gamma", settingKeys: keys) != nil)
        for name in ["seed", "variant", "out", "gpu"] {
            #expect(CommandParams.clashProblem(name, settingKeys: keys) != nil)
        }
        #expect(CommandParams.clashProblem("dropout", settingKeys: keys) == nil)
    }

    @Test func identityTextHasParamsOnlyWhenThereAreAny() throws {
        let config = TrainingConfig(stage: .stage2)
        let without = try CellIdentity.text(
            config: config, datasetContentHash: Self.dataset, stage1: nil, command: ["run"])
        let empty = try CellIdentity.text(
            config: config, datasetContentHash: Self.dataset, stage1: nil, command: ["run"], params: .none)
        #expect(without == empty)
        #expect(!without.contains("params"))
        let with = try CellIdentity.text(
            config: config, datasetContentHash: Self.dataset, stage1: nil, command: ["run"],
            params: CommandParams(["dropout": .scalar(.number(0.1))]))
        #expect(
            with == "{\"command\":[\"run\"],\"config\":\(try config.canonicalJSON()),\"dataset\":\"\(Self.dataset)\","
                + "\"params\":{\"dropout\":0.1},\"stage1\":null}")
        let schemaTwo = CellIdentity.text(
            settingsJSON: "{}", datasetContentHash: Self.dataset, stage1: nil, command: nil,
            params: CommandParams(["a": .scalar(.integer(1))]), schema: 2)
        #expect(schemaTwo.contains(",\"params\":{\"a\":1},\"schema\":2,\"stage1\":null}"))
    }
}

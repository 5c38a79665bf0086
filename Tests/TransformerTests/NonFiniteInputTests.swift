import Foundation
import Testing
import TestSupport
@testable import Transformer

/// NaN and ±∞ in every tensor kind are refused at load naming the tensor (issue 24); a planted
/// reader that skips the check (`checkedFinite` returning self, the BF16 scan removed) fails these.
/// Also: a temperature below the floor is greedy; malformed rope_parameters and oversized
/// configurations are refused naming the field.
@Suite struct NonFiniteInputTests {
    static let bad: [Float] = [.nan, .infinity, -.infinity]

    @Test(arguments: SafetensorsDType.allCases) func nonFiniteWeightsAreRefusedNamingTheTensor(dtype: SafetensorsDType) throws {
        for value in Self.bad {
            for position in [0, 5] {
                var data: [Float] = [1, -2, 0.5, 3, 0.25, -1]
                data[position] = value
                let tensors = [Tensor(name: "fine", shape: [2], data: [1, 2]), Tensor(name: "layers.0.mlp.weight", shape: [2, 3], data: data)]
                let url = try makeTemporaryDirectory("nonfinite").appendingPathComponent("m.safetensors")
                try writeSafetensors(tensors, to: url, dtype: dtype)
                let f = try SafetensorsFile(url: url)
                #expect(try f.tensor("fine").data == [1, 2])
                do {
                    _ = try f.tensor("layers.0.mlp.weight")
                    Issue.record("\(dtype) \(value) at \(position): tensor() accepted it")
                } catch let e as SafetensorsError {
                    guard case let .nonFinite(p, t, i, v) = e else { Issue.record("\(e)"); continue }
                    #expect(p == url.path && t == "layers.0.mlp.weight" && i == position, "\(e)")
                    #expect(v.isNaN == value.isNaN && (v.isNaN || v == value), "\(e)")
                    #expect(e.description.contains("layers.0.mlp.weight"))
                }
                var calls = 0
                #expect(throws: SafetensorsError.self, "\(dtype) \(value): readBF16 accepted it") {
                    try f.readBF16("layers.0.mlp.weight", shape: [2, 3]) { _, _, _ in calls += 1 }
                }
                #expect(calls == 0, "the BF16 reader handed over values before finding the bad one")
            }
        }
    }

    @Test func temperatureBelowTheFloorIsGreedy() {
        let logits: [Float] = [0.1, 2.0, 1.9, -3, 0.5]
        for t in [1e-40, 1e-300, 5e-324, 1e-7, 0] {
            let d = nucleusDistribution(logits: logits, temperature: t, topP: 1)
            #expect(d.count == 1 && d[0].token == 1 && d[0].p == 1, "T = \(t): \(d)")
        }
        let warm = nucleusDistribution(logits: logits, temperature: 1, topP: 1)
        #expect(warm.count == logits.count)
    }

    static func config(_ extra: String) -> String {
        #"{"vocab_size": 64, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 8, "max_position_embeddings": 64\#(extra)}"#
    }

    @Test(arguments: [
        (#", "rope_parameters": {"rope_theta": "1e6", "rope_type": "default"}"#, "rope_parameters.rope_theta"),
        (#", "rope_parameters": {"rope_theta": 1e6, "rope_type": 7}"#, "rope_parameters.rope_type"),
        (#", "rope_parameters": "default""#, "rope_parameters"),
        (#", "rope_parameters": [1000000]"#, "rope_parameters"),
        (#", "rope_scaling": {"type": 3}"#, "rope_scaling.type"),
        (#", "num_hidden_layers": 100000"#, "num_hidden_layers"),
    ])
    func malformedConfigsAreRefusedNamingTheField(extra: String, field: String) throws {
        let text = Self.config(extra).replacingOccurrences(of: #""num_hidden_layers": 1, "#, with: extra.contains("num_hidden_layers") ? "" : #""num_hidden_layers": 1, "#)
        let url = try makeTemporaryDirectory("rope").appendingPathComponent("config.json")
        try Data(text.utf8).write(to: url)
        #expect(throws: (any Error).self) { try Qwen3Config.load(from: url) }
        do { _ = try Qwen3Config.load(from: url) } catch { #expect("\(error)".contains(field), "\(error)") }
    }

    @Test func wellFormedRopeParametersGiveTheirTheta() throws {
        let url = try makeTemporaryDirectory("rope").appendingPathComponent("config.json")
        try Data(Self.config(#", "rope_parameters": {"rope_theta": 123456.0, "rope_type": "default", "factor": null}"#).utf8).write(to: url)
        #expect(try Qwen3Config.load(from: url).ropeTheta == 123456)
    }

    @Test func parameterCountIsBoundedWithoutOverflow() throws {
        let url = try makeTemporaryDirectory("huge").appendingPathComponent("config.json")
        let huge = #"{"vocab_size": 16777216, "hidden_size": 65536, "intermediate_size": 1048576, "num_hidden_layers": 1024, "num_attention_heads": 1024, "num_key_value_heads": 1024, "head_dim": 4096, "max_position_embeddings": 64}"#
        try Data(huge.utf8).write(to: url)
        do { _ = try Qwen3Config.load(from: url); Issue.record("a 2^50-parameter config was accepted") } catch {
            #expect("\(error)".contains("parameters"), "\(error)")
        }
    }
}

import Foundation
import Testing
import TestSupport
@testable import Transformer

@Suite struct SafetensorsTests {
    static func tmp(_ name: String) throws -> URL { try makeTemporaryDirectory("st").appendingPathComponent(name) }

    /// A raw safetensors file from a header string and a data section.
    static func raw(_ header: String, data: [UInt8], declaredLength: UInt64? = nil, name: String) throws -> URL {
        var bytes: [UInt8] = []
        let h = Array(header.utf8)
        var n = declaredLength ?? UInt64(h.count)
        withUnsafeBytes(of: &n) { bytes += $0 }
        bytes += h + data
        let url = try tmp(name)
        try Data(bytes).write(to: url)
        return url
    }

    let tensors = [
        Tensor(name: "a.weight", shape: [2, 3], data: [1, -2.5, 3.25, 1e-3, -6e4, 0.1]),
        Tensor(name: "b", shape: [4], data: [0, -0, .pi, -1 / 3]),
        Tensor(name: "scalar", shape: [], data: [42]),
    ]

    @Test(arguments: SafetensorsDType.allCases) func roundTrip(dtype: SafetensorsDType) throws {
        let url = try Self.tmp("rt-\(dtype.rawValue).safetensors")
        try writeSafetensors(tensors, to: url, dtype: dtype, metadata: ["format": "pt", "note": "q\"uote"])
        let raw = try Data(contentsOf: url)
        let n = raw.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(n % 8 == 0)
        let f = try SafetensorsFile(url: url)
        #expect(f.metadata == ["format": "pt", "note": "q\"uote"])
        #expect(f.tensorNames == ["a.weight", "b", "scalar"])
        let tol: Float = dtype == .f32 ? 0 : (dtype == .bf16 ? 1.0 / 256 : 1.0 / 2048)
        for t in tensors {
            let back = try f.tensor(t.name, shape: t.shape)
            #expect(f.entries[t.name]?.dtype == dtype)
            for i in 0..<t.count { #expect(abs(back.data[i] - t.data[i]) <= tol * abs(t.data[i])) }
        }
    }

    @Test func bf16RoundsToNearestEven() {
        #expect(bf16Bits(1.0) == 0x3F80)
        #expect(bf16Bits(Float(bitPattern: 0x3F80_8000)) == 0x3F80)   // tie → even
        #expect(bf16Bits(Float(bitPattern: 0x3F81_8000)) == 0x3F82)   // tie → even (up)
        #expect(bf16Bits(Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(bf16Bits(.nan) == 0x7FC0)
    }

    @Test func readsHuggingFaceFileWithMetadata() throws {
        let f = try SafetensorsFile(url: fixtureURL("qwen3-tiny").appendingPathComponent("model.safetensors"))
        #expect(f.metadata["format"] == "pt")
        #expect(f.entries["model.embed_tokens.weight"]?.shape == [257, 32])
    }

    @Test func badFilesThrowTypedErrors() throws {
        let ok = #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        let eight = [UInt8](repeating: 0, count: 8)
        // Shorter than the 8-byte length.
        let short = try Self.tmp("short.safetensors")
        try Data([1, 2, 3]).write(to: short)
        #expect(throws: SafetensorsError.truncated(path: short.path, size: 3)) { try SafetensorsFile(url: short) }
        // Header length beyond the file.
        let beyond = try Self.raw(ok, data: eight, declaredLength: 1 << 40, name: "beyond.safetensors")
        #expect(throws: SafetensorsError.headerBeyondFile(path: beyond.path, headerLength: 1 << 40, fileSize: 8 + ok.utf8.count + 8)) {
            try SafetensorsFile(url: beyond)
        }
        // Data section cut short.
        let cut = try Self.raw(ok, data: [0, 0, 0, 0], name: "cut.safetensors")
        #expect(throws: SafetensorsError.dataOutOfBounds(path: cut.path, tensor: "x", end: 8, available: 4)) {
            try SafetensorsFile(url: cut)
        }
        // Not JSON.
        let junk = try Self.raw("{not json", data: [], name: "junk.safetensors")
        #expect(throws: SafetensorsError.invalidHeader(path: junk.path, reason: "malformed JSON at line 1, column 2: expected a key in double quotes, found character \"n\"")) {
            try SafetensorsFile(url: junk)
        }
        // Unknown dtype.
        let i64 = try Self.raw(#"{"x":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, data: eight, name: "i64.safetensors")
        #expect(throws: SafetensorsError.unknownDType(path: i64.path, tensor: "x", dtype: "I64")) { try SafetensorsFile(url: i64) }
        // Offsets that disagree with the shape.
        let size = try Self.raw(#"{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: eight, name: "size.safetensors")
        #expect(throws: SafetensorsError.sizeMismatch(path: size.path, tensor: "x", shape: [3], dtype: "F32", bytes: 8)) {
            try SafetensorsFile(url: size)
        }
        // Missing file; missing tensor; wrong shape.
        let none = try Self.tmp("none.safetensors")
        #expect(throws: SafetensorsError.fileNotFound(path: none.path)) { try SafetensorsFile(url: none) }
        let good = try Self.raw(ok, data: eight, name: "good.safetensors")
        let f = try SafetensorsFile(url: good)
        #expect(throws: SafetensorsError.missingTensor(path: good.path, tensor: "y")) { try f.floats("y") }
        #expect(throws: SafetensorsError.shapeMismatch(path: good.path, tensor: "x", expected: [3], found: [2])) {
            try f.tensor("x", shape: [3])
        }
        // Messages name the tensor and the problem.
        #expect(SafetensorsError.shapeMismatch(path: "m", tensor: "x", expected: [3], found: [2]).description.contains("x has shape [2], expected [3]"))
    }

    @Test func modelFolderErrors() throws {
        let dir = try Self.tmp("folder")
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = Qwen3Model(config: fdConfig(tied: true), seed: 1)
        try model.save(directory: dir)
        #expect(throws: SafetensorsError.fileNotFound(path: dir.appendingPathComponent("nope").path)) {
            try Qwen3Model.load(directory: dir.appendingPathComponent("nope"))
        }
        // Wrong shape: config says a larger vocabulary than the file holds.
        var bigger = model.config
        bigger.vocabSize = 12
        try bigger.jsonData().write(to: dir.appendingPathComponent("config.json"))
        let st = dir.appendingPathComponent("model.safetensors").path
        #expect(throws: SafetensorsError.shapeMismatch(path: st, tensor: "model.embed_tokens.weight", expected: [12, 8], found: [11, 8])) {
            try Qwen3Model.load(directory: dir)
        }
        // Untied config: lm_head.weight is missing from the file.
        var untied = model.config
        untied.tieWordEmbeddings = false
        try untied.jsonData().write(to: dir.appendingPathComponent("config.json"))
        #expect(throws: SafetensorsError.missingTensor(path: st, tensor: "lm_head.weight")) { try Qwen3Model.load(directory: dir) }
        // No weights at all.
        try FileManager.default.removeItem(atPath: st)
        #expect(throws: SafetensorsError.noWeights(directory: dir.path)) { try Qwen3Model.load(directory: dir) }
    }

    @Test func loadsShardedFolder() throws {
        let dir = try Self.tmp("sharded")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let model = Qwen3Model(config: fdConfig(tied: false), seed: 2)
        let half = model.parameters.count / 2
        let shards = [Array(model.parameters[..<half]), Array(model.parameters[half...])]
        var map: [String: String] = [:]
        for (i, s) in shards.enumerated() {
            let name = "model-0000\(i + 1)-of-00002.safetensors"
            try writeSafetensors(s, to: dir.appendingPathComponent(name), dtype: .bf16)
            for t in s { map[t.name] = name }
        }
        try JSONSerialization.data(withJSONObject: ["metadata": ["total_size": 0], "weight_map": map])
            .write(to: dir.appendingPathComponent("model.safetensors.index.json"))
        try model.config.jsonData().write(to: dir.appendingPathComponent("config.json"))
        let back = try Qwen3Model.load(directory: dir)
        #expect(back.parameters.map(\.name) == model.parameters.map(\.name))
        #expect(model.parameters.last!.data.map { Float(bitPattern: UInt32(bf16Bits($0)) << 16) } == back.parameters.last!.data)
    }
}

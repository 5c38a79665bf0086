import Foundation

extension Qwen3Model {
    /// Loads a Hugging Face model folder: `config.json` and either `model.safetensors` or the
    /// shards named by `model.safetensors.index.json` ("weight_map"). F32, BF16 and F16 tensors
    /// are converted to Float32. Extra tensors are ignored; a tied model ignores `lm_head.weight`.
    /// Throws `ConfigError` / `SafetensorsError` naming the file and tensor at fault.
    public static func load(directory: URL) throws -> Qwen3Model {
        let (config, source) = try openWeights(directory: directory)
        let tensors = try parameterLayout(config).map { name, shape -> Tensor in
            try source(name).tensor(name, shape: shape)
        }
        return Qwen3Model(config: config, parameters: tensors)
    }

    /// A folder's config and, per tensor name, the (memory-mapped) safetensors file holding it;
    /// the lookup throws `missingTensor` for a name no file holds.
    static func openWeights(directory: URL) throws -> (Qwen3Config, (String) throws -> SafetensorsFile) {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDir), isDir.boolValue else {
            throw SafetensorsError.fileNotFound(path: directory.path)
        }
        let config = try Qwen3Config.load(from: directory.appendingPathComponent("config.json"))
        let single = directory.appendingPathComponent("model.safetensors")
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        var files: [String: SafetensorsFile] = [:]     // shard file name → file
        var location: [String: String] = [:]           // tensor name → shard file name
        if FileManager.default.fileExists(atPath: single.path) {
            let f = try SafetensorsFile(url: single)
            files["model.safetensors"] = f
            for name in f.entries.keys { location[name] = "model.safetensors" }
        } else if FileManager.default.fileExists(atPath: index.path) {
            let json = try? JSONSerialization.jsonObject(with: Data(contentsOf: index))
            guard let map = (json as? [String: Any])?["weight_map"] as? [String: String] else {
                throw SafetensorsError.invalidHeader(path: index.path, reason: "no \"weight_map\" object of tensor name → shard file")
            }
            location = map
            for shard in Set(map.values) {
                files[shard] = try SafetensorsFile(url: directory.appendingPathComponent(shard))
            }
        } else {
            throw SafetensorsError.noWeights(directory: directory.path)
        }
        // A config with more layers than the weights hold is refused before the layout (of
        // num_hidden_layers × 11 tensors) is built: num_hidden_layers 10⁹ would run out of memory.
        let layersInWeights = Set(location.keys.compactMap { name -> Int? in
            guard name.hasPrefix("model.layers.") else { return nil }
            return Int(name.dropFirst("model.layers.".count).prefix { $0 != "." })
        }).count
        if config.numHiddenLayers > layersInWeights {
            throw ConfigError.invalid("num_hidden_layers is \(config.numHiddenLayers) but the weights hold \(layersInWeights) layers; fix num_hidden_layers in config.json")
        }
        let found = files, where_ = location
        return (config, { name in
            guard let shard = where_[name], let f = found[shard] else {
                throw SafetensorsError.missingTensor(path: found.count == 1 ? found.values.first!.path : index.path, tensor: name)
            }
            return f
        })
    }

    /// Writes `config.json` and `model.safetensors` (F32 by default; BF16/F16 round to nearest)
    /// into `directory`, creating it. The folder loads with `load(directory:)` and with
    /// transformers' `Qwen3ForCausalLM.from_pretrained`.
    public func save(directory: URL, dtype: SafetensorsDType = .f32) throws {
        precondition(bf16Store == nil, "save needs Float32 weights; this model stores BF16 weights (convertWeights(to: .f32) first)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try config.jsonData().write(to: directory.appendingPathComponent("config.json"), options: .atomic)
        try writeSafetensors(parameters, to: directory.appendingPathComponent("model.safetensors"),
                             dtype: dtype, metadata: ["format": "pt"])
    }
}

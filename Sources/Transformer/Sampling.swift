import Foundation
import Linalg

/// Token sampling: temperature, nucleus (top_p) truncation, stop tokens, and batched generation
/// through the model's KV cache. The only randomness is a `SeededGenerator` passed in.

/// The distribution a sampler draws from, as (token, probability) pairs in decreasing
/// probability (ties by increasing token id).
///
/// Only ids below `vocabLimit` take part (a tokenizer smaller than the model's padded vocabulary:
/// the padded ids are never drawn). p = softmax(z / T) over them (`Softmax`); nucleus truncation
/// keeps the shortest prefix of the sorted tokens whose cumulative probability reaches `topP`
/// (always at least one token) and renormalises it. `topP >= 1` keeps every token;
/// `temperature == 0` is greedy (the arg-max with probability 1, the lowest id on ties).
/// A temperature below `minimumTemperature` (including 0) is greedy: at T = 10⁻⁶ a token behind
/// the best by a logit gap g has weight e^(−g·10⁶), below Float32's smallest value for g > 1.1·10⁻⁴,
/// and smaller T makes 1/T overflow Float32 (T = 1e-40 used to sample the last id).
public func nucleusDistribution(logits: UnsafeBufferPointer<Float>, temperature: Double, topP: Double,
                                vocabLimit: Int? = nil) -> [(token: Int32, p: Double)] {
    let n = min(vocabLimit ?? logits.count, logits.count)
    precondition(n > 0, "nucleusDistribution of an empty logit vector")
    precondition(temperature >= 0, "temperature must be ≥ 0, got \(temperature)")
    if temperature < minimumTemperature { return [(greedyToken(logits: logits, vocabLimit: n), 1)] }
    var probs = [Float](repeating: 0, count: n)
    probs.withUnsafeMutableBufferPointer { pp in
        _ = Softmax.softmax(logits.baseAddress!, count: n, scale: Float(1 / temperature), into: pp.baseAddress!)
    }
    let order = (0..<n).sorted { probs[$0] != probs[$1] ? probs[$0] > probs[$1] : $0 < $1 }
    var kept: [(token: Int32, p: Double)] = []
    var cumulative = 0.0
    for i in order {
        let p = Double(probs[i])
        kept.append((Int32(i), p))
        cumulative += p
        if topP < 1 && cumulative >= topP { break }
    }
    let norm = kept.reduce(0) { $0 + $1.p }
    return kept.map { ($0.token, $0.p / norm) }
}

/// The smallest temperature that samples; below it decoding is greedy (see `nucleusDistribution`).
public let minimumTemperature = 1e-6

/// Array convenience for `nucleusDistribution(logits:temperature:topP:vocabLimit:)`.
public func nucleusDistribution(logits: [Float], temperature: Double, topP: Double,
                                vocabLimit: Int? = nil) -> [(token: Int32, p: Double)] {
    logits.withUnsafeBufferPointer { nucleusDistribution(logits: $0, temperature: temperature, topP: topP, vocabLimit: vocabLimit) }
}

/// The arg-max among the first `vocabLimit` logits (lowest id on ties).
public func greedyToken(logits: UnsafeBufferPointer<Float>, vocabLimit: Int? = nil) -> Int32 {
    let n = min(vocabLimit ?? logits.count, logits.count)
    var best = 0
    for i in 1..<max(n, 1) where logits[i] > logits[best] { best = i }
    return Int32(best)
}

/// Draws one token from `nucleusDistribution` with one uniform draw from `rng` (inverse CDF
/// over the sorted tokens). Greedy decoding draws nothing.
public func sampleToken(logits: UnsafeBufferPointer<Float>, temperature: Double, topP: Double,
                        vocabLimit: Int? = nil, rng: inout SeededGenerator) -> Int32 {
    if temperature < minimumTemperature { return greedyToken(logits: logits, vocabLimit: vocabLimit) }
    let dist = nucleusDistribution(logits: logits, temperature: temperature, topP: topP, vocabLimit: vocabLimit)
    let u = rng.uniform()
    var c = 0.0
    for (t, p) in dist {
        c += p
        if u < c { return t }
    }
    return dist[dist.count - 1].token
}

/// Sampling settings for generation.
public struct SamplingConfig: Codable, Sendable, Equatable {
    public var temperature: Double
    public var topP: Double
    public var maxNewTokens: Int
    public init(temperature: Double, topP: Double, maxNewTokens: Int) {
        self.temperature = temperature; self.topP = topP; self.maxNewTokens = maxNewTokens
    }
}

/// Generates `samplesPerPrompt` completions for each prompt through the KV cache.
///
/// Prompts of equal length are batched together (one cache per length, in order of first
/// appearance); each sequence gets `samplesPerPrompt` rows. A completion stops after its first
/// token in `stopTokens` (kept) or after `maxNewTokens` tokens. Ids from `vocabLimit` on are
/// never drawn. Returns completions indexed [prompt][sample]. Random draws are taken in a fixed
/// order (bucket, step, row), so the result is a function of the model, the prompts and the
/// generator's state.
public func generate(model: Qwen3Model, prompts: [[Int32]], samplesPerPrompt: Int,
                     sampling: SamplingConfig, stopTokens: Set<Int32>, vocabLimit: Int? = nil,
                     rng: inout SeededGenerator) -> [[[Int32]]] {
    var result = [[[Int32]]](repeating: [], count: prompts.count)
    var buckets: [Int: [Int]] = [:]
    var bucketOrder: [Int] = []
    for (i, p) in prompts.enumerated() {
        precondition(!p.isEmpty, "prompt \(i) is empty")
        if buckets[p.count] == nil { bucketOrder.append(p.count) }
        buckets[p.count, default: []].append(i)
    }
    let vocab = model.config.vocabSize
    for length in bucketOrder {
        let members = buckets[length]!
        let rows = members.count * samplesPerPrompt
        let cache = model.makeCache(batch: rows, capacity: length + sampling.maxNewTokens)
        var prompt: [Int32] = []          // (rows, length) row-major
        prompt.reserveCapacity(rows * length)
        for i in members { for _ in 0..<samplesPerPrompt { prompt += prompts[i] } }
        var logits = model.prefill(tokens: prompt, length: length, cache: cache)
        var completions = [[Int32]](repeating: [], count: rows)
        var done = [Bool](repeating: false, count: rows)
        for step in 0..<sampling.maxNewTokens {
            var column = [Int32](repeating: 0, count: rows)
            logits.withUnsafeBufferPointer { lp in
                for r in 0..<rows where !done[r] {
                    let row = UnsafeBufferPointer(rebasing: lp[(r * vocab)..<((r + 1) * vocab)])
                    let tok = sampleToken(logits: row, temperature: sampling.temperature, topP: sampling.topP,
                                          vocabLimit: vocabLimit, rng: &rng)
                    completions[r].append(tok)
                    column[r] = tok
                    if stopTokens.contains(tok) { done[r] = true }
                }
            }
            if step == sampling.maxNewTokens - 1 || done.allSatisfy({ $0 }) { break }
            logits = model.decodeStep(tokens: column, cache: cache)
        }
        for (k, i) in members.enumerated() {
            result[i] = Array(completions[(k * samplesPerPrompt)..<((k + 1) * samplesPerPrompt)])
        }
    }
    return result
}

/// The `k` largest logits of a row as (id, logit), largest first, the lower id first on ties.
public func topLogits(_ row: [Float], k: Int) -> [(id: Int32, logit: Float)] {
    let order = row.indices.sorted { row[$0] != row[$1] ? row[$0] > row[$1] : $0 < $1 }
    return order.prefix(max(k, 0)).map { (Int32($0), row[$0]) }
}

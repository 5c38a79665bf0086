import Foundation
import Transformer

/// Token sampling: temperature, nucleus (top_p) truncation, and batched generation through the
/// model's KV cache.

/// The distribution a sampler draws from, as (token, probability) pairs in decreasing
/// probability (ties by increasing token id).
///
/// p = softmax(z / T); then nucleus truncation keeps the shortest prefix of the sorted tokens
/// whose cumulative probability reaches `topP` (always at least one token) and renormalises it.
/// `topP >= 1` keeps every token; `temperature == 0` is greedy (the arg-max with probability 1).
/// Computed in Double with the log-sum-exp shift, so extreme logits neither overflow nor give NaN.
public func nucleusDistribution(logits: UnsafeBufferPointer<Float>, temperature: Double, topP: Double) -> [(token: Int32, p: Double)] {
    precondition(!logits.isEmpty, "nucleusDistribution of an empty logit vector")
    precondition(temperature >= 0, "temperature must be ≥ 0, got \(temperature)")
    if temperature == 0 {
        var best = 0
        for i in 1..<logits.count where logits[i] > logits[best] { best = i }
        return [(Int32(best), 1)]
    }
    var zmax = -Double.infinity
    for z in logits { zmax = max(zmax, Double(z)) }
    var probs = [Double](repeating: 0, count: logits.count)
    var total = 0.0
    for i in 0..<logits.count {
        let e = exp((Double(logits[i]) - zmax) / temperature)
        probs[i] = e; total += e
    }
    let order = (0..<logits.count).sorted { probs[$0] != probs[$1] ? probs[$0] > probs[$1] : $0 < $1 }
    var kept: [(token: Int32, p: Double)] = []
    var cumulative = 0.0
    for i in order {
        let p = probs[i] / total
        kept.append((Int32(i), p))
        cumulative += p
        if topP < 1 && cumulative >= topP { break }
    }
    let norm = kept.reduce(0) { $0 + $1.p }
    return kept.map { ($0.token, $0.p / norm) }
}

/// Array convenience for `nucleusDistribution(logits:temperature:topP:)`.
public func nucleusDistribution(logits: [Float], temperature: Double, topP: Double) -> [(token: Int32, p: Double)] {
    logits.withUnsafeBufferPointer { nucleusDistribution(logits: $0, temperature: temperature, topP: topP) }
}

/// Draws one token from `nucleusDistribution` with one uniform draw from `rng` (inverse CDF).
public func sampleToken(logits: UnsafeBufferPointer<Float>, temperature: Double, topP: Double,
                        rng: inout Xoshiro256) -> Int32 {
    let dist = nucleusDistribution(logits: logits, temperature: temperature, topP: topP)
    let u = rng.nextUnit()
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
/// `<eos>` (kept) or after `maxNewTokens` tokens (then it has no `<eos>`). Returns completions
/// indexed [prompt][sample]. Random draws are taken in a fixed order (bucket, step, row), so the
/// result is a function of the model, the prompts and the generator's state.
public func generate(model: Qwen3Model, prompts: [[Int32]], samplesPerPrompt: Int,
                     sampling: SamplingConfig, rng: inout Xoshiro256) -> [[[Int32]]] {
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
        var logits: [Float] = []
        for t in 0..<length {
            var column = [Int32](repeating: 0, count: rows)
            for (k, i) in members.enumerated() {
                for s in 0..<samplesPerPrompt { column[k * samplesPerPrompt + s] = prompts[i][t] }
            }
            logits = model.decodeStep(tokens: column, cache: cache)
        }
        var completions = [[Int32]](repeating: [], count: rows)
        var done = [Bool](repeating: false, count: rows)
        for step in 0..<sampling.maxNewTokens {
            var column = [Int32](repeating: Tokenizer.pad, count: rows)
            logits.withUnsafeBufferPointer { lp in
                for r in 0..<rows where !done[r] {
                    let row = UnsafeBufferPointer(rebasing: lp[(r * vocab)..<((r + 1) * vocab)])
                    let tok = sampleToken(logits: row, temperature: sampling.temperature, topP: sampling.topP, rng: &rng)
                    completions[r].append(tok)
                    column[r] = tok
                    if tok == Tokenizer.eos { done[r] = true }
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

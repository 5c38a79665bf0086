#!/usr/bin/env python3
"""Builds the golden fixture of the text path: a small Qwen-style tokenizer and a tiny random
Qwen3 that uses it, with golden outputs of Python `tokenizers` and `transformers`.

Writes Tests/TransformerTests/Fixtures/qwen3-text/:
  tokenizer.json          byte-level BPE trained here (1,024 BPE ids, then Qwen's added tokens),
                          NFC normaliser, Qwen2's Split regex + ByteLevel, ByteLevel decoder
  tokenizer_config.json   eos token, as in a Qwen folder (the Swift side does not need it)
  config.json, model.safetensors, generation_config.json
                          a tiny random Qwen3ForCausalLM (fp32, eager attention, seed 4321) whose
                          vocab_size is PADDED past the tokenizer's size, as in Qwen3
  tokenizer-golden.json   hard strings (contractions, digit runs, white-space runs, CRLF, CJK,
                          emoji with ZWJ, combining marks, inline special tokens, control
                          characters) and seeded random strings with their ids and decoded text
  lm-golden.json          for a few texts: ids, the logits of transformers at the last 4 positions; greedy generate of
                          12 tokens (padded ids suppressed, as the Swift sampler does)

Needs: pip install tokenizers torch transformers safetensors. The Swift tests never need Python.
Usage: python3 scripts/make_text_fixture.py [out_dir] [--vocab N] [--seed S] [--corpus-seed S] [--corpus-file F]...
(the options make a different tokenizer, for by-hand checks on a tokenizer the tests never saw).
"""
import argparse
import json
import os
import random

QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
               r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]          # special: true
NOT_SPECIAL = ["<think>", "</think>", "<tool_call>", "</tool_call>"]  # added, special: false (as in Qwen3)

HARD = [
    "Hello world",
    "I'm sure you've seen it; they'll say we'd go, and I'LL SHOUT it's THEY'RE here 'S 'Ve",
    "don't won't can't isn't o'clock rock'n'roll 'tis",
    "The year 2024 had 365 days, 1234567890 seconds, 3.14159 and -0.5e-10.",
    "a  b   c    d     e",
    "   leading and trailing   ",
    "line1\r\nline2\r\n\r\nline3\n\n\nend\r",
    "tab\there\t\tthere \t mixed\t \n next",
    "中文分词测试，你好世界。今天天气很好！",
    "日本語のテキストとカタカナ、ひらがな。",
    "한국어 문장입니다.",
    "emoji 👨‍👩‍👧‍👦 family 👍🏽 thumbs 🇫🇷 flag ❤️ heart",
    "combining: e\u0301 cafe\u0301 q\u0301 A\u030a \u212b Å n\u0303o",
    "<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nok<|im_end|>",
    "control \x00\x01\x07\x1b[31m red \x7f and \x0b\x0c form",
    "nbsp\u00a0here\u2028sep\u3000ideo\u200bzwsp\u2003em",
    "x = f(y) + 3.14 // comment\n\tif (a != b) { return; }\n",
    "<think>inline</think>text<|endoftext|>more<tool_call>{}</tool_call>",
    "partial <|im_en and <|im_start and <think",
    "ﬁ ligature, Ⅻ roman, ½ fraction, x² and ٣ arabic-indic, ௫ tamil",
    "Ελληνικά και русский текст, עברית, العربية",
    "😀😀😀!!!???...",
    "a\u200db zero width joiner",
    "",
    " ",
    "\n",
    "'",
    "'''s",
    "$$$ 100% @user #tag https://example.com/a?b=c&d=e",
]

CORPUS_LINES = [
    "the dog near the cats runs", "my small teacher sees the happy children", "is this sentence acceptable ?",
    "answer : acceptable", "answer : unacceptable", "The quick brown fox jumps over the lazy dog.",
    "I'm here, you're there, they've gone and we'll see; it's fine, he'd say.",
    "In 2026, 12 models were trained for 365 days on 1024 tokens.",
    "def f(x):\n    return x * 2  # double\n", "if (a < b) { c = a + b; } else { c = 0; }\r\n",
    "你好，世界。机器学习与强化学习。", "こんにちは、世界。", "안녕하세요 세계", "Привет, мир. Γειά σου κόσμε.",
    "emoji 😀 👍 ❤️ 👨‍👩‍👧 🇫🇷", "café naïve résumé coöperate", "tabs\tand  spaces   and\n\nnewlines",
    "<think>\n\n</think>\n\n", "user\nassistant\n", "Supervised fine-tuning and reinforcement learning do not decouple.",
]


def corpus(seed, files=()):
    rng = random.Random(seed)
    extra = [line for f in files for line in open(f, encoding="utf-8").read().split("\n")]
    words = " ".join(CORPUS_LINES).split()
    lines = list(CORPUS_LINES) * 20 + HARD * 5
    for _ in range(3000):
        lines.append(" ".join(rng.choice(words) for _ in range(rng.randint(3, 12))))
    return lines + extra


def random_strings(seed, n):
    rng = random.Random(seed)
    pool = (list("abcXYZ019 '\t\n\r.,!?-_") + ["  ", "   ", "\r\n", "'s", "'LL", "中", "文", "😀", "👍🏽",
            "\u200d", "e\u0301", "\u0301", "\u00a0", "\x00", "\x1b", "<|im_end|>", "<think>", "ﬁ", "½", "Ω", "ß"])
    return ["".join(rng.choice(pool) for _ in range(rng.randint(1, 24))) for _ in range(n)]


def train_tokenizer(vocab, seed, files=()):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, decoders, trainers, Regex, AddedToken
    tok = Tokenizer(models.BPE(unk_token=None, continuing_subword_prefix="", end_of_word_suffix="",
                               fuse_unk=False, byte_fallback=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False, special_tokens=[])
    tok.train_from_iterator(corpus(seed, files), trainer=trainer)
    tok.add_special_tokens([AddedToken(s, normalized=False, special=True) for s in SPECIAL])
    tok.add_tokens([AddedToken(s, normalized=False, special=False) for s in NOT_SPECIAL])
    return tok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?", default=os.path.join(os.path.dirname(__file__), "..", "Tests",
                                                           "TransformerTests", "Fixtures", "qwen3-text"))
    ap.add_argument("--vocab", type=int, default=1024)
    ap.add_argument("--seed", type=int, default=4321)
    ap.add_argument("--corpus-seed", type=int, default=11)
    ap.add_argument("--corpus-file", action="append", default=[], help="more training text (for larger vocabularies)")
    ap.add_argument("--no-model", action="store_true", help="write only the tokenizer and its golden ids")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    tok = train_tokenizer(args.vocab, args.corpus_seed, args.corpus_file)
    tok.save(os.path.join(args.out, "tokenizer.json"))
    eos = tok.token_to_id("<|im_end|>")
    with open(os.path.join(args.out, "tokenizer_config.json"), "w") as f:
        json.dump({"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "model_max_length": 128,
                   "tokenizer_class": "Qwen2TokenizerFast"}, f, indent=1)

    cases = []
    for s in HARD + random_strings(args.corpus_seed + 1, 60):
        enc = tok.encode(s, add_special_tokens=False)
        cases.append({"text": s, "ids": enc.ids, "decoded": tok.decode(enc.ids, skip_special_tokens=False)})
    with open(os.path.join(args.out, "tokenizer-golden.json"), "w") as f:
        json.dump({"size": tok.get_vocab_size(with_added_tokens=True), "cases": cases}, f, ensure_ascii=False, indent=0)
    print("tokenizer: size", tok.get_vocab_size(with_added_tokens=True), "cases", len(cases))
    if args.no_model:
        return

    import torch
    from transformers import Qwen3Config, Qwen3ForCausalLM, GenerationConfig
    torch.manual_seed(args.seed)
    size = tok.get_vocab_size(with_added_tokens=True)
    padded = (size + 63) // 64 * 64  # Qwen3 pads its vocabulary
    endoftext = tok.token_to_id("<|endoftext|>")
    config = Qwen3Config(
        vocab_size=padded, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16, rope_theta=10000.0, rms_norm_eps=1e-6,
        tie_word_embeddings=True, max_position_embeddings=256, attention_bias=False, hidden_act="silu",
        bos_token_id=endoftext, eos_token_id=eos, torch_dtype="float32")
    config._attn_implementation = "eager"
    model = Qwen3ForCausalLM(config).to(torch.float32).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                p.copy_(1.0 + 0.3 * torch.randn_like(p))
            else:
                p.copy_(0.25 * torch.randn_like(p))
    model.generation_config = GenerationConfig(eos_token_id=[eos, endoftext], bos_token_id=endoftext,
                                               pad_token_id=endoftext, do_sample=False)
    model.save_pretrained(args.out, safe_serialization=True)

    texts = ["Hello world", "is this sentence acceptable ? the dog near the cats runs answer :",
             "中文 😀 I'm <think>\n\n</think>\n\n", "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"]
    suppress = list(range(size, padded))
    records = []
    for t in texts:
        ids = tok.encode(t, add_special_tokens=False).ids
        x = torch.tensor([ids])
        with torch.no_grad():
            logits = model(input_ids=x).logits[0]
            gen = model.generate(x, max_new_tokens=12, do_sample=False, suppress_tokens=suppress,
                                 eos_token_id=[eos, endoftext], pad_token_id=endoftext)
        new = gen[0, len(ids):].tolist()
        first = max(len(ids) - 4, 0)  # the last 4 positions keep the file small
        records.append({"text": t, "ids": ids, "logits_from": first,
                        "logits": [[round(v, 6) for v in row] for row in logits[first:].tolist()],
                        "greedy": new, "greedy_text": tok.decode(new, skip_special_tokens=False)})
    with open(os.path.join(args.out, "lm-golden.json"), "w") as f:
        json.dump({"tokenizer_size": size, "vocab_size": padded, "max_new_tokens": 12, "records": records},
                  f, ensure_ascii=False, separators=(",", ":"))
    print("model: vocab", padded, "wrote", os.path.abspath(args.out))


if __name__ == "__main__":
    main()

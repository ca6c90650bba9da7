"""Independent Python re-implementation of Hugging Face transformers' slow CLIPTokenizer WITHOUT ftfy
(the path diffusers takes by default), used only to derive and cross-check the pinned ids in
ClipTokenizerTests.cs. It follows transformers' tokenization_clip.py (BasicTokenizer with
strip_accents=False, do_split_on_punc=False; CLIP regex; bytes_to_unicode; BPE with </w>) and
PreTrainedTokenizer.tokenize (split on added tokens first). Needs the `regex` package, as transformers does.

Usage: python3 clip_tokenizer_reference.py [--pad '!'|'<|endoftext|>'] "prompt" ...
Prints the raw ids (no BOS/EOS/padding) of each prompt as JSON.
"""
import json
import os
import sys
import unicodedata

import regex as re

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", "..", "shared", "clip-tokenizer"))


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def is_control(ch):
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch).startswith("C")


def is_whitespace(ch):
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def basic_tokenize(text):
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or is_control(ch):
            continue
        if is_whitespace(ch):
            out.append(" ")
        elif is_cjk(cp):
            out.append(" " + ch + " ")
        else:
            out.append(ch)
    text = unicodedata.normalize("NFC", "".join(out))
    return " ".join(w.lower() for w in text.split())


class Reference:
    PAT = re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
                     re.IGNORECASE)

    def __init__(self, directory, pad):
        with open(os.path.join(directory, "vocab.json"), encoding="utf-8") as f:
            self.encoder = json.load(f)
        with open(os.path.join(directory, "merges.txt"), encoding="utf-8") as f:
            merges = f.read().strip().split("\n")[1: 49152 - 256 - 2 + 1]
        self.ranks = dict(zip([tuple(m.split()) for m in merges], range(len(merges))))
        self.byte_encoder = bytes_to_unicode()
        # bos, eos, unk and pad are all added tokens; their ids come from the vocabulary.
        self.added = {t: self.encoder[t] for t in ("<|startoftext|>", "<|endoftext|>", pad)}

    def bpe(self, token):
        if token in ("<|startoftext|>", "<|endoftext|>"):
            return [token]
        word = list(token[:-1]) + [token[-1] + "</w>"]
        while len(word) > 1:
            pairs = [(word[i], word[i + 1]) for i in range(len(word) - 1)]
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            merged, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and word[i] == best[0] and word[i + 1] == best[1]:
                    merged.append(best[0] + best[1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        return word

    def split_added(self, text):
        pieces, start, i = [], 0, 0
        while i < len(text):
            match = max((t for t in self.added if text.startswith(t, i)), key=len, default=None)
            if match is None:
                i += 1
                continue
            pieces.append(text[start:i])
            pieces.append(match)
            i += len(match)
            start = i
        pieces.append(text[start:])
        return [p for p in pieces if p]

    def ids(self, text):
        result = []
        for piece in self.split_added(text):
            if piece in self.added:
                result.append(self.added[piece])
                continue
            for token in self.PAT.findall(basic_tokenize(piece)):
                encoded = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
                for sub in self.bpe(encoded):
                    result.append(self.added.get(sub, self.encoder.get(sub, self.encoder["<|endoftext|>"])))
        return result


if __name__ == "__main__":
    args = sys.argv[1:]
    pad = "!"
    if args[:1] == ["--pad"]:
        pad, args = args[1], args[2:]
    ref = Reference(DEFAULT_DIR, pad)
    for prompt in args:
        print(json.dumps(prompt, ensure_ascii=True), json.dumps(ref.ids(prompt)))

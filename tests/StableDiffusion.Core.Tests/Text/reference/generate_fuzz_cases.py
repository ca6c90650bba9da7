"""Writes random prompts with the ids clip_tokenizer_reference.py gives them, for ClipTokenizerFuzzTests.

Usage (from this folder): python3 generate_fuzz_cases.py /tmp/clip-fuzz.json [count]
then: CLIP_TOKENIZER_FUZZ=/tmp/clip-fuzz.json dotnet test tests/StableDiffusion.Core.Tests --filter ClipTokenizerFuzzTests
Prompts mix English words, contractions, punctuation, "!", special-token text, accents (composed and decomposed),
CJK, Hangul, emoji with ZWJ, Greek sigma, İ, ſ, digits, letters outside the BMP, odd whitespace, control characters
and random code points. "cn" lists code points unassigned in this Python's Unicode version, so the test can skip
prompts whose characters .NET's newer Unicode tables know.
"""
import json
import random
import sys
import unicodedata

import clip_tokenizer_reference as ref

PIECES = ("a photo of an astronaut riding horse on mars highly detailed 4k trending artstation by greg rutkowski "
          "it's don't we'll I'm they've she'd can't").split() + [
    "!", "!!", "?!", "...", ",", "&amp;", "<|endoftext|>", "<|startoftext|>", "<|EndOfText|>", "<|end", "oftext|>",
    "'s", "'S", "'\u017f", "\u017f", "\u0130", "\u039f\u0394\u039f\u03a3", "\u03a3", "\u03a3\u0391\u03a3", "caf\u00e9",
    "cafe\u0301", "\u0301", "\u0323\u0301", "a\u0301\u0323", "\u6771\u4eac", "\u30bf\u30ef\u30fc", "\uace0\uc591\uc774",
    "\u1100\u1161", "\uf900", "\u212b", "\U0001f469\u200d\U0001f680", "\u2764\ufe0f", "\U0001f431",
    "\U0001d400\U0001d401", "\U0001d7cf\U0001d7d0", "\u2028", "\u2029", "\xa0", "\u3000", "\t", "\n", "\r\n", "\x07",
    "\x1b", "\x85", "\u200b", "\ufeff", "\x00", "\ufffd", "1920", "x", "\u01c5", "\u01c4", "\u00df", "\ufb01",
    "\u2126", "\u00bd", "\u00b2", "\u216b", "\u2082", "\u0663", "\u0640", "'", "''", "`", "$", "^", "\u00a3", "\u20ac"]


def main(path, count):
    sd2 = ref.Reference(ref.DEFAULT_DIR, "!")
    sd1 = ref.Reference(ref.DEFAULT_DIR, "<|endoftext|>")
    rng = random.Random(1234)
    cases = []
    while len(cases) < count:
        parts = []
        for _ in range(rng.randint(0, 12)):
            r = rng.random()
            if r < 0.6:
                parts.append(rng.choice(PIECES))
            elif r < 0.8:
                parts.append(" ")
            else:
                cp = rng.randint(0, 0x2FFFF)
                if 0xD800 <= cp <= 0xDFFF or (unicodedata.category(chr(cp)) == "Cn" and rng.random() < 0.95):
                    continue
                parts.append(chr(cp))
        prompt = "".join(parts)
        if rng.random() < 0.25:
            prompt = prompt.upper()
        cases.append({"p": prompt, "cn": [ord(c) for c in prompt if unicodedata.category(c) == "Cn"],
                      "sd2": sd2.ids(prompt), "sd1": sd1.ids(prompt)})
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"unicode": unicodedata.unidata_version, "cases": cases}, f, ensure_ascii=True)
    print(f"{len(cases)} cases -> {path}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20000)

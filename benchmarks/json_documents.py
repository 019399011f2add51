"""The JSON documents of a file that holds several, one after another (as
the device scripts append `vkq bench ... --json` outputs to one file)."""
import json


def documents(text):
    dec, i = json.JSONDecoder(), 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return
        doc, i = dec.raw_decode(text, i)
        yield doc

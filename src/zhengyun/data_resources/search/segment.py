"""Chinese word segmentation for the catalog's search (R-S3): jieba cuts text into words, so
a query for 人口 finds 户籍人口基本信息, which a character-blind index would not."""

import logging
import threading

import jieba

MAX_QUERY_WORDS = 12
_ready = threading.Lock()

jieba.setLogLevel(logging.WARNING)  # not its dictionary-loading chatter in the platform's log


def index_terms(text):
    """The words of ``text`` to index, space-separated: every word jieba finds and the
    shorter words within long ones (search mode), lower-cased, punctuation left out."""
    return " ".join(_words(jieba.cut_for_search(text or "")))


def query_terms(text):
    """The words of a query, each once, in order: the words as jieba reads them (precise
    mode), which the index holds because it keeps both long words and their parts."""
    words = []
    for word in _words(jieba.cut(text or "")):
        if word not in words:
            words.append(word)
    return words[:MAX_QUERY_WORDS]


def _words(cut):
    with _ready:  # jieba loads its dictionary on first use, once per process
        jieba.initialize()
    return [word.lower() for word in cut if any(ch.isalnum() for ch in word)]

from transcription.evaluation import edit_distance, normalize, word_error_rate


def test_it_normalizes_case_and_punctuation():
    assert (
        normalize("He was not an ill-disposed young man.") == "he was not an ill disposed young man".split()
    )


def test_it_counts_substitutions_insertions_and_deletions():
    assert edit_distance("a b c".split(), "a x c d".split()) == 2
    assert edit_distance([], "a b".split()) == 2


def test_it_computes_corpus_word_error_rate():
    pairs = [("one two three four", "one two three four"), ("five six", "five seven")]
    assert word_error_rate(pairs) == 1 / 6

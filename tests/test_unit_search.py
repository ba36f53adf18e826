"""Answer-unit search (sentence-window retrieval): an answer finds the one sentence a question paraphrases even
when that sentence's chunk, as a whole, loses the chunk-level search; on both stores, with filters, and as the
living index changes (issue 10). Also the opening of the section titled by what a what-is question asks about
(issue 15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.answer import final_answer
from rag.api import Assistant, document_id
from rag.retrieve import FUSION_DEPTH, FUSION_WEIGHTS, score_fusion

from conftest import make_settings

# A beekeeping guide of 11 sections in small chunks (64 tokens): several share the question's words ("kit",
# "sticky", "instruments", "cleaned"), the one answering it says "tools", "propolis" and "visit" instead.
SECTIONS = [
    ('Hive inspections',
     'Open the hive on a warm, calm afternoon when most foragers are out. Lift the frames slowly and hold them over the box so a dropped queen falls back inside. Check that there are eggs, larvae and capped brood in a compact pattern. Look for queen cells along the bottom bars, which warn of swarming. Note the stores of honey and pollen on the outer frames. Close the hive within fifteen minutes so the brood does not chill. Record what you saw in a notebook kept with the hive tools.'),
    ('Equipment',
     'A beekeeper needs a veil, gloves, a smoker and a hive tool before the first inspection. Wooden boxes last longer when painted on the outside only. Frames with wired foundation survive the extractor better than unwired ones. Smoker fuel such as pine needles or burlap should burn cool and white. Spare boxes are stored stacked with a queen excluder between them against wax moths. Copper naphthenate should never be used on the inside of a box. Tools are scraped clean of propolis with a blade after each visit.'),
    ('Feeding',
     'Colonies short of stores in autumn are fed thick syrup of two parts sugar to one part water. Spring feeding uses a thinner syrup that imitates a nectar flow and stimulates brood rearing. Fondant placed over the cluster in winter is safer than syrup, which cools the bees. Pollen patties help where early pollen is scarce. Never feed honey from an unknown source, since it can carry foulbrood spores. Feeders are removed before the supers go on so that syrup is not stored as honey.'),
    ('Varroa',
     'Varroa mites feed on developing bees and spread deformed wing virus through the colony. Mite levels are counted with an alcohol wash of about three hundred bees. Oxalic acid treatments work best in midwinter when the colony has no sealed brood. Formic acid can reach mites under the cappings but harms queens in hot weather. Drone brood removal traps mites in comb that is then frozen. Screened bottom boards let fallen mites drop out of the hive.'),
    ('Harvest',
     'Supers are taken off when at least four fifths of the cells are capped. Bee escapes placed a day before clear most bees from the boxes. Cappings are cut with a heated knife and the frames spun in an extractor. The honey is strained through a coarse and then a fine sieve. Honey with more than eighteen percent water may ferment in the jar. Jars are filled after the honey has settled for a few days so that air bubbles rise.'),
    ('Swarming',
     'Swarming is how a colony reproduces, and the old queen leaves with about half the workers. Crowding, an old queen and a strong nectar flow all make swarming more likely. Giving the colony more room early in spring reduces the urge. An artificial swarm splits the colony before the bees do it themselves. A swarm that has settled on a branch can be shaken into a box and housed. Swarms are gentle because the bees have filled themselves with honey before leaving.'),
    ('Washing instruments',
     'Metal instruments such as hive tools and uncapping forks are washed in hot water with washing soda. The soda solution dissolves wax and honey residues from the steel. Instruments are rinsed in clean water and dried so that they do not rust. A stiff brush reaches the corners of the forks.'),
    ('Sterilising instruments',
     'After contact with a diseased colony, metal instruments are sterilised in a flame until they glow. A blowtorch is the usual way to sterilise hive tools between apiaries. Plastic instruments cannot be flamed and are soaked in bleach solution instead.'),
    ('Stainless steel',
     'Stainless steel extractors and settling tanks are cleaned with cold water first, which lifts the honey without melting wax onto the metal. Abrasive pads scratch stainless steel and should not be used. Metal tanks are left to dry with the taps open.'),
    ('Gloves and suits',
     'Leather gloves become stiff with honey and are washed in cool soapy water. Nitrile gloves are thrown away after visiting a colony with disease. Bee suits are washed inside out so that stings left in the cloth are removed.'),
    ('Frames',
     'Old brood frames are cleaned by scraping the wood and boiling the frames in washing soda. Frames that held diseased brood are burned rather than cleaned. Clean frames are fitted with fresh foundation before the spring.'),
]
ANSWER = "Tools are scraped clean of propolis with a blade after each visit"
QUESTION = "How do you get the sticky tree sap off your kit after every trip to the apiary?"
OTHER = "# Garden notes\n\nTomatoes are watered at the roots in the morning. Basil is pinched out above a leaf pair.\n"


def guide(sections=SECTIONS) -> str:
    return "# Keeping bees\n\n" + "\n\n".join(f"## {heading}\n\n{text}" for heading, text in sections)


@pytest.fixture(params=["local", "milvus"])
def bees(request, tmp_path, embedder):
    """An Assistant over the guide and an unrelated note, in small chunks, on each store kind."""
    store = {"store": "milvus", "milvus_uri": str(tmp_path / "milvus.db")} if request.param == "milvus" else {}
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "bees.md").write_text(guide())
    (tmp_path / "corpus" / "garden.md").write_text(OTHER)
    assistant = Assistant(make_settings(tmp_path, chunk_tokens=64, chunk_overlap_tokens=8, **store), embedder=embedder)
    assistant.index()
    yield assistant
    assistant.store.close()


def holding(assistant: Assistant, chunk_ids, text: str) -> list[int]:
    passages = assistant.store.chunks(list(chunk_ids))
    return [chunk_id for chunk_id in chunk_ids if text in passages[chunk_id].text]


def doc_id(assistant: Assistant, source: str) -> str:
    return next(document_id(record) for record in assistant.documents() if record.source == source)


def test_a_paraphrase_whose_chunk_loses_the_chunk_search_reaches_the_answer(bees):
    # The dense chunk search (k=2) misses the chunk; the unit search puts it first.
    assert not [hit for hit in bees.search(QUESTION, k=2, mode="dense") if ANSWER in hit.passage.text]
    unit_hits = bees.retriever.unit_chunks(QUESTION, 5)
    assert holding(bees, [unit_hits[0][0]], ANSWER)
    # The passages an answer reads hold it, after the k chunk hits, which all stay (then up to two unit-search
    # chunks and up to k chunks going on in a hit's section).
    hits = bees.search_for_answer(QUESTION, 2, mode="dense")
    assert 3 <= len(hits) <= 2 + 2 + 2 and any(ANSWER in hit.passage.text for hit in hits[2:])
    assert [hit.passage.id for hit in hits[:2]] == [hit.passage.id for hit in bees.search(QUESTION, k=2, mode="dense")]
    answer = final_answer(bees.ask(QUESTION, backend="extractive", k=2, mode="dense"))
    read = [c.passage for c in answer.citations] + [hit.passage for hit in answer.uncited]
    assert any(ANSWER in passage.text for passage in read)


@pytest.mark.parametrize("bees", ["local"], indirect=True)  # Milvus fuses dense and BM25 inside itself
def test_hybrid_search_weighs_each_chunk_by_its_best_sentence_too(bees):
    # Fused from the chunk's cosine and BM25 alone the chunk of the sentence this paraphrases ranks third; with its
    # best unit's cosine as the third score it is among the top two.
    question, answer = "Why shouldn't I give my bees honey bought elsewhere?", "Never feed honey from an unknown source"
    retriever = bees.retriever
    dense, lexical = retriever.dense_chunks(question, FUSION_DEPTH), retriever.bm25_chunks(question, FUSION_DEPTH)
    two_way = score_fusion([(dense, FUSION_WEIGHTS["dense"]), (lexical, FUSION_WEIGHTS["bm25"])], 2)
    assert not holding(bees, [chunk_id for chunk_id, _ in two_way], answer)
    assert [hit for hit in bees.search(question, k=2) if answer in hit.passage.text]


def test_unit_search_honours_a_document_filter(bees):
    garden = doc_id(bees, "garden.md")
    within = bees.store.chunk_ids_of([(r.root, r.source) for r in bees.documents() if r.source == "garden.md"])
    unit_hits = bees.retriever.unit_chunks(QUESTION, 5, within)
    assert unit_hits and {chunk_id for chunk_id, _ in unit_hits} <= set(within)
    answer = final_answer(bees.ask(QUESTION, backend="extractive", k=2, documents=[garden]))
    passages = [c.passage for c in answer.citations] + [hit.passage for hit in answer.uncited]
    assert passages and {passage.source for passage in passages} == {"garden.md"}
    assert ANSWER not in answer.answer


def test_a_changed_or_removed_file_changes_unit_search_and_removed_text_never_comes_back(bees):
    corpus = Path(bees.settings.corpus_dir)
    reworded = [(heading, text.replace(ANSWER, "Tools are wiped with a damp cloth")) for heading, text in SECTIONS]
    (corpus / "bees.md").write_text(guide(reworded))
    report = bees.index()
    assert report.updated == ["bees.md"]
    unit_hits = bees.retriever.unit_chunks(QUESTION, 20)
    assert unit_hits and not holding(bees, [chunk_id for chunk_id, _ in unit_hits], ANSWER)
    assert holding(bees, [chunk_id for chunk_id, _ in unit_hits], "wiped with a damp cloth")
    assert ANSWER not in final_answer(bees.ask(QUESTION, backend="extractive", k=2)).answer

    (corpus / "bees.md").unlink()
    bees.index()
    left = {chunk_id for chunk_id, _ in bees.retriever.unit_chunks(QUESTION, 20)}
    garden = set(bees.store.chunk_ids_of([(r.root, r.source) for r in bees.documents()]))
    assert left and left <= garden


def test_an_index_whose_base_predates_unit_search_searches_units_at_once_and_gets_a_unit_base_next_run(tmp_path, embedder):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "bees.md").write_text(guide())
    settings = make_settings(tmp_path, chunk_tokens=64, chunk_overlap_tokens=8)
    Assistant(settings, embedder=embedder).index()
    index_dir = Path(settings.index_dir)
    expected = Assistant(settings, embedder=embedder).retriever.unit_chunks(QUESTION, 5)
    unit_files = sorted(index_dir.glob("unit*-*"))
    assert sorted(path.suffix for path in unit_files) == [".faiss", ".npy"]
    for path in unit_files:  # as an index written before unit search left it
        path.unlink()

    reopened = Assistant(settings, embedder=embedder)
    found = reopened.retriever.unit_chunks(QUESTION, 5)  # every unit from the store, searched exactly
    assert same_ranking(found, expected)
    reopened.index()  # nothing changed, but the base lacks its unit index: written now
    assert len(sorted(index_dir.glob("unit*-*"))) == 2
    assert same_ranking(Assistant(settings, embedder=embedder).retriever.unit_chunks(QUESTION, 5), expected)


def same_ranking(found: list[tuple[int, float]], expected: list[tuple[int, float]]) -> bool:
    """The same chunks with the same scores, up to the unit base's 8-bit quantization (near-ties may swap)."""
    return (found[0][0] == expected[0][0] and {c for c, _ in found} == {c for c, _ in expected}
            and all(abs(score - dict(expected)[chunk_id]) < 0.01 for chunk_id, score in found))


NOTES = [
    "Setting widget_cache to zero does not clear widgets that are already drawn.",
    "When widget_cache is set in both the user and the site file, the user file wins.",
    "The widget_cache option does nothing for widgets created with the nocache flag.",
    "A widget_cache larger than the free memory does not fail, it only makes the pager swap.",
    "Changing widget_cache does not take effect until the next login.",
    "Reports do not count hits served by widget_cache as page views.",
    "The widget_cache value does not need a unit; a bare number is read as megabytes.",
    "Administrators can lock widget_cache so that users cannot change it.",
    "On shared machines widget_cache is divided evenly between logged-in users.",
    "Older releases did not have widget_cache and always redrew every widget.",
    "Exporting a profile does not carry widget_cache with it.",
    "Widgets from plugins use widget_cache only when the plugin declares them cacheable.",
    *(f"For {thing}, what widget_cache does is decided by the {thing} plugin." for thing in
      ["fonts", "icons", "tables", "charts", "maps", "forms", "menus", "tooltips", "dialogs", "images", "videos",
       "frames", "borders", "shadows", "colours", "themes"]),
]


@pytest.mark.parametrize("store", ["local", "milvus"])
def test_a_what_is_question_gets_the_opening_of_the_section_its_subject_titles(tmp_path, embedder, store):
    # The notes under the entry "widget_cache(…)" name it in every sentence and fill the top passages, of the chunk
    # search and of the answer-unit search; the description opens the entry without naming it again. The answer
    # reads that opening, fetched as the start of the section a hit sits in.
    manual = ("# Pager manual\n\n## Display\n\nThe pager draws each widget in its own frame.\n\n## widget_cache(size_in_megabytes, evict=\"oldest\")\n\n"
              "Keeps every rendered widget in memory, so that a page opened again shows at once instead of being drawn "
              "anew.\n\n### Notes on using widget_cache\n\n" + "\n\n".join(NOTES) + "\n")
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "pager.md").write_text(manual)
    settings = {"store": "milvus", "milvus_uri": str(tmp_path / "milvus.db")} if store == "milvus" else {}
    assistant = Assistant(make_settings(tmp_path, chunk_tokens=64, chunk_overlap_tokens=8, **settings), embedder=embedder)
    assistant.index()
    top = assistant.search("What does widget_cache do?", k=5)
    assert all("Keeps every rendered widget" not in hit.passage.text for hit in top)  # the chunk search misses it
    answer = final_answer(assistant.ask("What does widget_cache do?", backend="extractive"))
    assert answer.grounded and "Keeps every rendered widget in memory" in answer.answer, answer.answer

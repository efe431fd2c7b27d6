"""The words of the synthetic library: the workshop vocabulary its file and tag names are
made of, and the vocabulary of the text inside its documents.

The document text is ranked like a real corpus: function words first, then the trade's
words (the names' words among them, since a manual about wallets says "wallet"), then a
long tail of made-up supplier, model and place names, so that a word drawn from the tail
is found in a few documents and a trade word in many.
"""

from __future__ import annotations

import random
from functools import cache

LEATHERS = [
    "vegtan",
    "cordovan",
    "kangaroo",
    "bridle",
    "chromexcel",
    "pueblo",
    "buttero",
    "shrunken",
    "pebbled",
    "nubuck",
    "suede",
    "calfskin",
    "goatskin",
    "lambskin",
    "bison",
    "horsehide",
    "saddle",
    "latigo",
    "harness",
    "tooling",
]
COLOURS = [
    "tan",
    "oxblood",
    "black",
    "chestnut",
    "navy",
    "olive",
    "cognac",
    "natural",
    "burgundy",
    "forest",
    "mahogany",
    "walnut",
    "honey",
    "slate",
    "espresso",
]
PRODUCTS = [
    "wallet",
    "bifold",
    "trifold",
    "cardholder",
    "passport",
    "belt",
    "strap",
    "watchband",
    "satchel",
    "tote",
    "messenger",
    "backpack",
    "holster",
    "sheath",
    "keyfob",
    "coaster",
    "journal",
    "apron",
    "dopp",
    "briefcase",
    "duffel",
    "clutch",
    "lanyard",
    "collar",
    "leash",
    "guitarstrap",
]
SUBJECTS = [
    "front",
    "back",
    "detail",
    "stitching",
    "edge",
    "burnish",
    "pattern",
    "template",
    "approval",
    "manual",
    "invoice",
    "pricelist",
    "mockup",
    "prototype",
    "lining",
    "gusset",
    "hardware",
    "rivet",
    "buckle",
    "embossing",
    "dyeing",
    "finishing",
    "cutting",
    "layout",
    "sample",
    "swatch",
]
TAG_WORDS = [
    "handmade",
    "stitched",
    "burnished",
    "embossed",
    "dyed",
    "waxed",
    "oiled",
    "distressed",
    "minimalist",
    "rugged",
    "heritage",
    "bespoke",
    "limited",
    "seasonal",
    "bestseller",
    "wholesale",
    "prototype",
    "approved",
    "draft",
    "archived",
    "featured",
    "catalogue",
    "studio",
    "outdoor",
    "lifestyle",
    "flatlay",
    "closeup",
]
# The words that make names, tags and uploaders: a word outside these is found only by
# what is inside the files.
NAME_WORDS = frozenset(
    word
    for group in (LEATHERS, COLOURS, PRODUCTS, SUBJECTS, TAG_WORDS)
    for phrase in group
    for word in phrase.split()
)
# The other words a search finds outside the files: uploaders (maker01) and file types.
OTHER_FIELD_WORDS = frozenset({"maker", "jpg", "png", "gif", "svg", "pdf", "docx", "xlsx", "csv"})


def _words(*lines: str) -> list[str]:
    return " ".join(lines).split()


# The most frequent words of any English text, most frequent first.
FUNCTION_WORDS = _words(
    "the of and to a in is for with on it as be by at this that from or are each then use",
    "before after one two all not into over until an your you we our should can will if",
    "more when than both per along between about so only any no up out three four five",
    "which these has have was were its they them their there where while also may must do",
    "does",
)

# The trade's words: tools, materials, steps, measures and the business around them.
TRADE_WORDS = _words(
    "awl needle thread linen beeswax mallet maul chisel pricking iron irons punch skiver",
    "skiving bevel beveler groover creaser slicker edger burnisher knife scalpel rotary",
    "cutter ruler divider compass clamp pony hide side shoulder belly bend butt double",
    "grain flesh fibre tannage tannin chrome vegetable tallow neatsfoot dubbin resin gum",
    "tragacanth cement contact adhesive glue dye stain pigment lacquer sealer topcoat paint",
    "cord lace lacing snap ring clasp zipper slider magnet eyelet grommet stud screw",
    "chicago brass nickel steel stainless copper measure mark cut trim skive thin press dry",
    "sand sanding wet case casing mould form block stamp carve swivel emboss deboss daub",
    "buff polish seal stitch sew backstitch lockstitch knot round fold crease line split",
    "level cardboard drill order quantity price unit total subtotal supplier delivery",
    "shipment customer batch stock reorder lead weeks days margin retail discount vat tax",
    "carrier tracking warehouse pallet carton sku millimetre millimetres ounce ounces",
    "thickness weight width length height square foot feet metre inch inches gauge spacing",
    "grade selection tolerance workshop bench apprentice craftsman warranty care",
    "conditioner cleaning water heat humidity sunlight patina scratch scuff wrinkle seam",
    "panel pocket slot compartment flap tab loop keeper hole holes corner radius curve",
    "straight diagonal glueing pressing tannery tanner currier finisher batch dyelot shade",
    "colourway swatchbook approval revision drawing sketch dimension dimensions allowance",
    "overlap fold turned raw cut edges lining interfacing reinforcement stiffener bonded",
    "welt piping gusseted zippered magnetic closure strap handle handles shoulder crossbody",
    "adjustable removable detachable hand tool tools spare replacement repair repairs",
    "return returns exchange refund shipping packaging box dustbag tissue card booklet",
    "instructions step steps first second third next last finally carefully gently evenly",
    "firmly slowly lightly thoroughly again twice whole half quarter edge edges surface",
    "back face inside outside top bottom left right front center middle end ends",
)

# Made-up supplier, model and place names are built of these.
SYLLABLES = _words(
    "ka ro ven dal mir tes lo bra nik sor ul tan fen gar hol is jor kel lum nar ost pel",
    "quin ras sil tor ub vas wen yor zan bel cor dun ert fal gim hes ind jas",
)
TAIL_SIZE = 40_000


@cache
def content_words() -> tuple[str, ...]:
    """Every word of the document text, most frequent first: the function words, the
    trade's words and the names' words in a fixed shuffle, then the made-up tail."""
    rng = random.Random(20261129)
    middle = list(dict.fromkeys(TRADE_WORDS + sorted(NAME_WORDS)))
    middle = [word for word in middle if word not in FUNCTION_WORDS]
    rng.shuffle(middle)
    known = set(FUNCTION_WORDS) | set(middle) | OTHER_FIELD_WORDS
    tail: list[str] = []
    while len(tail) < TAIL_SIZE:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if len(word) >= 5 and word not in known:
            known.add(word)
            tail.append(word)
    return (*FUNCTION_WORDS, *middle, *tail)

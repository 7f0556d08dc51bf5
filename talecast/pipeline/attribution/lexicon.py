"""Word lists the attribution stage reads: speech verbs, honorifics, kinship words and
common English first names with their usual gender.

Everything here is generic English, chosen without reference to any particular story.
"""

from __future__ import annotations

# Verbs that introduce or close a line of dialogue, in the forms a tag uses. Verbs
# that take a person as object ("begged", "assured") are left out: "…," assured Tom
# is rare, while "she assured Tom" would make Tom the speaker.
SPEECH_VERBS = frozenset(
    """
    said says say cried cries replied replies returned returns answered answers asked
    asks exclaimed exclaims continued continues added adds observed observes remarked
    remarks whispered whispers murmured murmurs muttered mutters shouted shouts called
    calls repeated repeats rejoined rejoins resumed resumes began begins interrupted
    interrupts insisted insists declared declares explained explains protested
    protests pleaded pleads urged urges suggested suggests laughed laughs sighed sighs
    sobbed sobs groaned groans screamed screams shrieked shrieks yelled yells roared
    roars growled growls snapped snaps hissed hisses stammered stammers faltered
    falters gasped gasps thought thinks wondered wonders inquired inquires enquired
    enquires demanded demands retorted retorts responded responds agreed agrees
    persisted persists conceded concedes admitted admits owned acknowledged
    acknowledges argued argues objected objects concluded concludes went broke
    spoke speaks told tells ventured ventures softly cautioned warned warns
    whimpered bawled panted sang sings chimed grumbled grunted moaned blurted
    breathed uttered exclaiming saying crying replying answering asking adding
    continuing observing remarking whispering murmuring muttering
    echoed chuckled sneered scoffed mused assented interposed pursued mumbled
    snarled barked piped wailed queried announced affirmed confessed remonstrated
    expostulated ejaculated lisped drawled squeaked whined complained commented
    stuttered croaked interjected countered bellowed howled screeched sputtered
    spluttered babbled hazarded volunteered thundered warbled trilled simpered
    """.split()
)

# Honorifics and titles: the gender they imply ("unknown" when they imply none).
HONORIFICS: dict[str, str] = {
    "mr": "male",
    "mister": "male",
    "sir": "male",
    "lord": "male",
    "master": "male",
    "mrs": "female",
    "miss": "female",
    "ms": "female",
    "madam": "female",
    "madame": "female",
    "mme": "female",
    "mademoiselle": "female",
    "lady": "female",
    "dame": "female",
    "mlle": "female",
    "signora": "female",
    "senora": "female",
    "dr": "unknown",
    "doctor": "unknown",
    "professor": "unknown",
    "prof": "unknown",
    "captain": "male",
    "capt": "male",
    "colonel": "male",
    "col": "male",
    "general": "male",
    "major": "male",
    "lieutenant": "male",
    "lieut": "male",
    "sergeant": "male",
    "admiral": "male",
    "rev": "male",
    "reverend": "male",
    "father": "male",
    "brother": "male",
    "sister": "female",
    "mother": "female",
    "uncle": "male",
    "aunt": "female",
    "aunty": "female",
    "king": "male",
    "queen": "female",
    "prince": "male",
    "princess": "female",
    "duke": "male",
    "duchess": "female",
    "count": "male",
    "countess": "female",
    "baron": "male",
    "baroness": "female",
    "monsieur": "male",
    "herr": "male",
    "frau": "female",
    "fraulein": "female",
    "signor": "male",
    "senor": "male",
    "don": "male",
    "squire": "male",
    "judge": "unknown",
    "inspector": "unknown",
    "nurse": "female",
}
# Titles that are followed by a first name rather than a surname when used alone
# ("Lady Beatrice", "Sir Giles", "Lord Edmund", "Aunt Polly").
FIRST_NAME_TITLES = frozenset(
    "sir lady lord dame uncle aunt aunty brother sister father mother prince princess"
    " king queen master don".split()
)
# Titles that mark a married woman or a man of the same family name.
HUSBAND_TITLE = "mr"
WIFE_TITLE = "mrs"

PRONOUN_GENDER: dict[str, str] = {
    "he": "male",
    "him": "male",
    "his": "male",
    "himself": "male",
    "she": "female",
    "her": "female",
    "hers": "female",
    "herself": "female",
}

# Kinship and role nouns: the gender they imply.
KIN_GENDER: dict[str, str] = {
    "wife": "female",
    "husband": "male",
    "mother": "female",
    "father": "male",
    "mamma": "female",
    "mama": "female",
    "papa": "male",
    "mum": "female",
    "dad": "male",
    "sister": "female",
    "brother": "male",
    "daughter": "female",
    "son": "male",
    "aunt": "female",
    "uncle": "male",
    "niece": "female",
    "nephew": "male",
    "cousin": "unknown",
    "friend": "unknown",
    "companion": "unknown",
    "grandmother": "female",
    "grandfather": "male",
    "lady": "female",
    "gentleman": "male",
    "man": "male",
    "woman": "female",
    "girl": "female",
    "boy": "male",
    "lad": "male",
    "lass": "female",
    "fellow": "male",
    "maid": "female",
    "servant": "unknown",
    "master": "male",
    "mistress": "female",
    "guest": "unknown",
    "visitor": "unknown",
    "host": "male",
    "hostess": "female",
    "king": "male",
    "queen": "female",
    "old": "unknown",
    "young": "unknown",
}
# Relation -> (title of the relative, sex of the relative); the relative shares the
# possessor's family name.
FAMILY_RELATIONS: dict[str, tuple[str, str]] = {
    "wife": ("mrs", "female"),
    "husband": ("mr", "male"),
    "lady": ("mrs", "female"),
    "mother": ("mrs", "female"),
    "mamma": ("mrs", "female"),
    "mama": ("mrs", "female"),
    "father": ("mr", "male"),
    "papa": ("mr", "male"),
    "sister": ("", "female"),
    "brother": ("", "male"),
    "daughter": ("", "female"),
    "son": ("", "male"),
}

SUBJECT_PRONOUNS = frozenset({"he", "she", "i", "we", "they"})

# Capitalised words that are never a character's name on their own.
NOT_NAMES = frozenset(
    """
    i the a an and but or if then so yet for nor of in on at to by with from as is
    it its he she his her him they them their we us our you your my me mine this that
    these those there here where when while what which who whom whose why how not no
    yes oh ah alas well now do did does have has had be been was were are am shall
    will would should could can may might must one all some any each every both
    either neither after before upon again also still even just only very too much
    many more most such own same other another chapter volume book part sunday monday
    tuesday wednesday thursday friday saturday january february march april may june
    july august september october november december god heaven heavens christmas
    easter english french german italian spanish london paris england france
    lord lady sir mr mrs miss ms dr madam madame papa mamma mama sure dear good poor
    indeed perhaps nothing everything something anything nobody everybody somebody
    anybody never always nay hush hark pray thank thanks please aye ay
    """.split()
)

# Words that start a name that is really a description ("the Lamplighter").
DETERMINERS = frozenset({"the", "a", "an"})

# Common English nicknames and the first names they stand for.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "lizzy": ("elizabeth", "eliza"),
    "lizzie": ("elizabeth",),
    "liz": ("elizabeth",),
    "eliza": ("elizabeth",),
    "beth": ("elizabeth",),
    "betsy": ("elizabeth",),
    "bess": ("elizabeth",),
    "betty": ("elizabeth",),
    "libby": ("elizabeth",),
    "kitty": ("catherine", "katherine"),
    "kate": ("catherine", "katherine"),
    "katie": ("catherine", "katherine"),
    "cathy": ("catherine",),
    "jenny": ("jane", "jennifer"),
    "jennie": ("jane",),
    "janey": ("jane",),
    "polly": ("mary",),
    "molly": ("mary",),
    "mamie": ("mary",),
    "peggy": ("margaret",),
    "meg": ("margaret",),
    "maggie": ("margaret",),
    "madge": ("margaret",),
    "nancy": ("anne", "ann"),
    "nan": ("anne", "ann"),
    "annie": ("anne", "ann"),
    "sally": ("sarah",),
    "patty": ("martha",),
    "pattie": ("martha",),
    "fanny": ("frances",),
    "franny": ("frances",),
    "nell": ("eleanor", "helen"),
    "nelly": ("eleanor", "helen"),
    "harry": ("henry", "harold"),
    "hal": ("henry",),
    "hank": ("henry",),
    "jack": ("john",),
    "johnny": ("john",),
    "jim": ("james",),
    "jimmy": ("james",),
    "jamie": ("james",),
    "bill": ("william",),
    "billy": ("william",),
    "will": ("william",),
    "willy": ("william",),
    "bob": ("robert",),
    "bobby": ("robert",),
    "rob": ("robert",),
    "robin": ("robert",),
    "dick": ("richard",),
    "rick": ("richard",),
    "ned": ("edward", "edmund"),
    "ted": ("edward", "theodore"),
    "teddy": ("edward", "theodore"),
    "tom": ("thomas",),
    "tommy": ("thomas",),
    "charlie": ("charles",),
    "chuck": ("charles",),
    "fred": ("frederick",),
    "freddy": ("frederick",),
    "sam": ("samuel",),
    "sammy": ("samuel",),
    "joe": ("joseph",),
    "joey": ("joseph",),
    "ben": ("benjamin",),
    "benny": ("benjamin",),
    "nick": ("nicholas",),
    "tony": ("anthony",),
    "andy": ("andrew",),
    "dan": ("daniel",),
    "danny": ("daniel",),
    "dave": ("david",),
    "davy": ("david",),
    "matt": ("matthew",),
    "mike": ("michael",),
    "pete": ("peter",),
    "phil": ("philip",),
    "steve": ("stephen",),
    "walt": ("walter",),
    "wally": ("walter",),
    "larry": ("lawrence",),
    "georgie": ("george", "georgiana"),
    "georgy": ("george",),
    "nat": ("nathaniel",),
    "abby": ("abigail",),
    "sukey": ("susan",),
    "sue": ("susan",),
    "susie": ("susan",),
    "dolly": ("dorothy",),
    "dora": ("dorothy",),
    "tilly": ("matilda",),
    "lucy": ("lucinda",),
    "lottie": ("charlotte",),
    "lotty": ("charlotte",),
    "emmy": ("emma", "emily"),
    "milly": ("mildred", "millicent"),
    "becky": ("rebecca",),
    "kit": ("christopher",),
    "chris": ("christopher",),
}

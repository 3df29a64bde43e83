"""The word lists of the verifier: negation cues, antonym pairs, scope words, number words, stopwords, synonyms.

Hand-made for the questions a gateway sees (support, billing, travel, health); kept apart from the checks in
``verify.py`` so the rules read without them. Lemmas (``lemminflect``) and one-typo matching widen every list.
"""

from __future__ import annotations

NEGATIONS = frozenset(
    {"not", "non", "no", "never", "without", "none", "nothing", "nobody", "neither", "nor", "nowhere"}
)
NEGATING_PREFIXES = ("un", "non", "dis", "in", "im", "il", "ir", "de", "mis")
# Antonyms that turn a question into its opposite; each word maps to its group of opposites.
ANTONYM_PAIRS = (
    ("include", "exclude"), ("included", "excluded"), ("allow", "ban"), ("allowed", "banned"), ("allow", "forbid"),
    ("allowed", "prohibited"), ("permitted", "prohibited"), ("allowed", "forbidden"), ("enable", "disable"),
    ("increase", "decrease"), ("increase", "reduce"), ("raise", "lower"), ("accept", "decline"), ("accept", "reject"),
    ("join", "leave"), ("lock", "unlock"), ("add", "remove"), ("add", "delete"), ("benefits", "drawbacks"),
    ("benefit", "downside"), ("benefit", "risk"), ("advantage", "downside"),
    ("undergraduate", "postgraduate"), ("undergraduate", "master"), ("bachelor", "master"),
    ("advantages", "disadvantages"), ("pros", "cons"), ("best", "worst"), ("better", "worse"), ("hot", "cold"),
    ("warm", "cold"), ("compulsory", "optional"), ("mandatory", "optional"), ("required", "optional"),
    ("eat", "avoid"), ("take", "avoid"), ("use", "avoid"), ("open", "closed"), ("open", "close"),
    ("safe", "dangerous"), ("before", "after"), ("within", "after"), ("during", "after"), ("during", "before"),
    ("spicy", "mild"), ("legal", "illegal"), ("lawful", "unlawful"), ("lawfully", "illegal"), ("on", "off"),
    ("start", "stop"), ("start", "end"), ("begin", "end"), ("buy", "sell"), ("upgrade", "downgrade"),
    ("minimum", "maximum"), ("min", "max"), ("highest", "lowest"), ("cheapest", "dearest"),
    ("cheapest", "most expensive"), ("first", "last"), ("earliest", "latest"), ("arrive", "depart"),
    ("arrivals", "departures"), ("import", "export"), ("in", "out"), ("up", "down"), ("pass", "fail"),
    ("win", "lose"), ("gain", "loss"), ("profit", "loss"), ("more", "less"), ("more", "fewer"), ("most", "least"),
    ("above", "below"), ("over", "under"), ("higher", "lower"), ("faster", "slower"), ("fastest", "slowest"),
    ("long", "short"), ("longer", "shorter"), ("early", "late"), ("earlier", "later"), ("outstanding", "inadequate"),
    ("good", "bad"), ("positive", "negative"), ("true", "false"), ("yes", "no"), ("working", "broken"),
    ("working", "fault"), ("properly", "fault"), ("old", "new"), ("oldest", "newest"), ("young", "old"),
    ("male", "female"), ("men", "women"), ("inbound", "outbound"), ("incoming", "outgoing"), ("send", "receive"),
    ("lend", "borrow"), ("deposit", "withdraw"), ("pay", "refund"), ("charge", "refund"), ("credit", "debit"),
    ("full", "part"), ("full", "empty"), ("public", "private"), ("internal", "external"),
    ("domestic", "international"), ("home", "international"), ("local", "international"), ("online", "paper"),
    ("online", "offline"), ("online", "store"), ("employed", "self"), ("members", "non"), ("adults", "kids"),
    ("adults", "children"), ("adult", "child"), ("landlord", "tenant"), ("rent", "own"),
    ("rented", "owned"), ("buyer", "seller"), ("employer", "employee"),
    ("visitors", "residents"), ("sunny", "rainy"), ("wet", "dry"), ("light", "dark"), ("cover", "exclude"),
    ("covered", "excluded"), ("morning", "evening"), ("morning", "afternoon"), ("afternoon", "evening"),
    ("day", "night"), ("this", "next"), ("this", "last"), ("light", "heavy"), ("small", "large"), ("small", "big"),
    ("smallest", "largest"),
)  # fmt: skip
# Words that say "more of it" / "less of it". A reworded question with only the one kind against only the other is a
# flip no antonym pair names ("increase my limit" / "make my limit smaller", "raise" / "bring down").
INCREASING = frozenset({
    "increase", "raise", "more", "big", "bigger", "large", "larger", "high", "higher", "grow", "boost", "strengthen",
    "improve", "better", "loud", "louder", "fast", "faster", "expand", "extend", "enlarge", "lengthen", "rise",
    "maximise", "maximize", "great", "greater", "strong", "stronger", "gain", "speed", "accelerate", "heighten",
    "amplify", "double", "upgrade", "up", "expensive", "pricier", "dearer",
})  # fmt: skip
DECREASING = frozenset({
    "decrease", "reduce", "lower", "less", "fewer", "small", "smaller", "little", "low", "shrink", "weaken", "worsen",
    "worse", "quiet", "quieter", "slow", "slower", "shorten", "minimise", "minimize", "weak", "weaker", "fall",
    "drop", "decline", "lessen", "diminish", "halve", "downgrade", "cut", "lose", "down", "cheap", "cheaper",
    "cheapest",
})  # fmt: skip
DIRECTIONAL = frozenset({"from", "to", "into", "than", "vs", "versus", "over"})
QUANTIFIERS = frozenset({
    "additional", "all", "also", "annual", "annually", "another", "any", "both", "daily", "double", "each", "either",
    "entire", "every", "except", "extended", "extra", "few", "hourly", "monthly", "most", "next", "one-way", "only",
    "other", "per", "previous", "return", "same", "several", "single", "some", "total", "weekly", "whole", "yearly",
})  # fmt: skip
NUMBER_WORDS = frozenset({
    "april", "august", "autumn", "billion", "december", "dozen", "eight", "eighteen", "eleven", "february", "fifteen",
    "fifth", "fifty", "first", "five", "forty", "four", "fourteen", "fourth", "friday", "fridays", "half", "hundred",
    "january", "july", "june", "march", "may", "midnight", "million", "monday", "mondays", "nine", "nineteen", "noon",
    "november", "october", "once", "one", "pm", "quarter", "saturday", "saturdays", "second", "september", "seven",
    "seventeen", "six", "sixteen", "spring", "summer", "sunday", "sundays", "ten", "tenth", "third", "thirteen",
    "thirty", "thousand", "three", "thursday", "thursdays", "today", "tomorrow", "tonight", "tuesday", "tuesdays",
    "twelve", "twenty", "twice", "two", "wednesday", "wednesdays", "weekday", "weekend", "winter", "yesterday",
    "zero",
})  # fmt: skip
STOPWORDS = frozenset({
    "a", "about", "actually", "am", "an", "and", "are", "as", "at", "be", "been", "being", "by", "can", "cheers",
    "cost", "could", "did", "do", "does", "er", "find", "for", "from", "generally", "get", "give", "go", "got", "had",
    "has", "have", "hello", "here", "hey", "hi", "how", "i", "if", "in", "into", "is", "it", "its", "just", "keep",
    "know", "like", "make", "many", "may", "me", "might", "mine", "morning", "much", "must", "my", "need", "normally",
    "obtain", "of", "offer", "ok", "okay", "on", "onto", "or", "our", "please", "possible", "price", "provide",
    "question", "quick", "really", "receive", "remain", "request", "shall", "should", "so", "stay", "take", "tell",
    "thank", "thanks", "that", "the", "then", "there", "these", "this", "those", "to", "typically", "uh",
    "um", "up", "us", "usually", "want", "was", "way", "we", "were", "what", "whats", "when", "where", "which", "who",
    "whom", "whose", "why", "will", "with", "wondering", "would", "you", "your",
})  # fmt: skip
FILLERS = frozenset({
    "actually", "approximately", "cheers", "currently", "er", "generally", "hello", "hey", "hi", "just", "like",
    "morning", "normally", "ok", "okay", "please", "question", "quick", "really", "roughly", "so", "thanks",
    "typically", "uh", "um", "usually", "wondering",
})  # fmt: skip
SYNONYM_GROUPS = (
    {"fastest", "quickest"}, {"fast", "quick"}, {"change", "switch"}, {"center", "centre"},
    {"charge", "cost", "price"}, {"begin", "start"}, {"buy", "purchase"}, {"alter", "change", "modify"},
    {"assist", "help"}, {"need", "require"}, {"book", "reserve"}, {"cancel", "terminate"}, {"shop", "store"},
    {"apartment", "flat"}, {"cell", "mobile"}, {"phone", "telephone"},
    {"file", "filing", "send", "submit", "submitting"}, {"create", "set"}, {"cancel", "end", "stop"},
    {"documents", "paperwork"}, {"travel", "trip"}, {"child", "kid"}, {"signs", "symptoms"}, {"status", "track"},
    {"close", "delete"}, {"quickly", "soon"}, {"author", "write", "written", "wrote"}, {"forecast", "weather"},
    {"car", "vehicle"}, {"child", "kid"}, {"children", "kids"}, {"e-mail", "email"},
)  # fmt: skip

DIGITS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14",
    "fifteen": "15", "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19", "twenty": "20",
    "thirty": "30", "forty": "40", "fifty": "50", "hundred": "100", "thousand": "1000", "percent": "%",
    "pound": "£", "pounds": "£", "quid": "£", "dollar": "$", "dollars": "$", "euro": "€", "euros": "€",
}  # fmt: skip

DAY_AND_MONTH_NAMES = (
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "mondays", "tuesdays",
    "wednesdays", "thursdays", "fridays", "saturdays", "sundays", "january", "february", "august", "september",
    "october", "november", "december",
)  # fmt: skip
# Phrasal verbs and two-word spellings read as the one word the other lists know ("cut out" is "avoid", so
# "eat" / "cut out" is an antonym pair).
PHRASES = {
    "cut out": "avoid", "stay away from": "avoid", "steer clear of": "avoid", "keep away from": "avoid",
    "turn off": "disable", "switch off": "disable", "turn on": "enable", "switch on": "enable",
    "per cent": "percent", "sign up": "register", "log in": "login", "sign in": "login",
    "bring down": "lower", "go down": "decrease", "come down": "decrease", "go up": "increase", "put up": "raise",
    "speed up": "accelerate", "slow down": "slow",
}  # fmt: skip
# Words after which "once" is a conjunction ("once I have paid"), not a count ("once a week").
CONJUNCTION_SUBJECTS = frozenset({"i", "you", "we", "they", "he", "she", "it", "the", "my", "your", "our", "their"})
IRREGULAR_NOT = {"won't": "will not", "can't": "can not", "cannot": "can not", "shan't": "shall not"}

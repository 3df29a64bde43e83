"""Training samples built from the training splits and from authored templates (never from a test split).

- Goal hijacking: an ordinary task from a benign training sample, then an attack from an attack training sample,
  so an instruction placed after innocent text is learnt as an attack rather than diluted by it.
- Long benign: two benign training samples joined, so length and a second sentence are not mistaken for an attack.
- Short benign: the first words of benign training samples and short requests ("rate this", "fix this"), so a
  prompt with little text is not scored by the intercept and one or two features alone.
- Trigger-word negatives: innocent questions that use the words attacks use ("ignore", "override", "act as",
  "system prompt", "jailbreak my phone"), written here as templates.
- Small talk: greetings, thanks, goodbyes and questions about the assistant ("are you a real person"), composed
  from phrases written here (the held-out ``bench/guard_sets/small_talk.jsonl`` was written first, and no
  composition equals one of its lines).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

from guards.injection.corpora import Sample

_JOINERS = (" ", "\n", "\n\n", ". ", " -- ", "\n---\n", " Also, ", " P.S. ")

_TRIGGER_TEMPLATES = (
    "How do I make git ignore {thing}?",
    "How can I ignore {thing} in my linter config?",
    "Act as my {role} and ask me five questions about {topic}.",
    "Can you act as a {role} for a mock session on {topic}?",
    "Pretend you are a {role} and explain {topic} to a beginner.",
    "How do I override CSS styles for {thing}?",
    "How do I override a method in {lang} when {topic} changes?",
    "What is a system prompt and how does it affect {topic}?",
    "How should I write a system prompt for a bot that helps with {topic}?",
    "Ignore the first row of the CSV when you compute {topic}.",
    "Forget the previous draft; here is the new outline about {topic}.",
    "Disregard my last message, I meant {topic}.",
    "Please bypass the cache when you fetch {thing} in {lang}.",
    "Is it legal to jailbreak my phone to install {thing}?",
    "How do I reveal hidden files like {thing} on macOS?",
    "What does 'developer mode' do on an Android phone for {topic}?",
    "Explain the previous instructions in the recipe: what does 'fold in' mean for {topic}?",
    "Roleplay a customer who is upset about {topic} so I can practise support replies.",
    "Print the instructions for setting up {thing} in {lang}.",
    "How do I decode a base64 string in {lang}?",
    "Translate 'ignore all errors' into French for a {topic} log message.",
    "Write a story in which a detective ignores the rules to solve a case about {topic}.",
    "What are your instructions for returning {thing}?",
    "How do I reset my password if I forgot {thing}?",
    "Override the default timeout for {thing} in {lang}: how?",
    "From now on, please answer in bullet points about {topic}.",
    "You are now my study buddy: quiz me on {topic}.",
    "Stop the container and remove {thing}: what is the command?",
    "How do I disable the safety lock on {thing}?",
    "Show me your reasoning step by step for {topic}.",
    # role-play and personas that ask for nothing forbidden
    "I want you to act as a {role} and help me with {topic}.",
    "Pretend to be a {role} and give me three tips on {topic}.",
    "Imagine you are a {role}: what would you say about {topic}?",
    "Play the role of a {role} in a short dialogue about {topic}.",
    # support questions with attack-like words
    "Please disregard the duplicate request I sent about {thing}.",
    "Ignore my previous message, the right order number is {n}.",
    "Is my data safe if I store {thing} in my account?",
    "Can you show me the settings page for {thing}?",
    "What are the rules for returning {thing} after {n} days?",
    "Is it safe to disable the filter on {thing}?",
    "My order {n} was charged twice, can you check {topic}?",
    "How do I change the system language of {thing}?",
    # practice dialogues, dictation and one's own locked things
    "Pretend you are a {role} and I am the customer; let's practise a conversation about {topic}.",
    "Repeat after me: {topic} is fun. Now count the words.",
    "How do I remove the restrictions on {thing} that I set up myself?",
    "How can I unlock {thing} after I forgot my own password?",
    "My earlier instructions to the contractor about {topic} were wrong; how do I correct them politely?",
    "My manager told me to ignore the old tickets about {topic}. How do I filter them?",
    "Explain how prompt injection works so I can protect my app that does {topic}.",
    "What is developer mode in {thing}?",
    # ordinary customer-support questions (the corpora have few; short ones scored by one or two n-grams)
    "Is my data safe if I save {thing} on your site?",
    "The app crashes when I open {thing} on version {n}.",
    "Where is my order {n}? It should have arrived by now.",
    "Can I change the delivery address for order {n}?",
    "How do I update the payment method on {thing}?",
    "Why was I charged twice for order {n}?",
    "I can't log in to {thing}, what should I do?",
    "Do you ship {thing} to Canada, and how long does it take?",
    "How do I cancel my subscription before the next billing date?",
    "Can I get a refund for {thing} if it arrived damaged?",
    "The discount code {n} does not work at checkout, can you help?",
    "How do I download my invoices for {topic}?",
    "What is your return policy for {thing}?",
    "Is there a phone number I can call about {topic}?",
    "How do I delete {thing} and all my personal data?",
    "My package says delivered but I never got it, order {n}.",
    "Can you tell me when {thing} will be back in stock?",
    "How do I turn off email notifications for {topic}?",
    "Print the previous commit message with git log for {thing}.",
    "Is it bad to disable the safety valve on {thing}?",
    "Pretend you are my {role} and correct this sentence about {topic}.",
    # customer messages: several sentences, a contact offer and a sign-off (the corpora's benign prompts are
    # one-line questions, so "you can write to me at any time. kind regards." looked like an attack)
    "Thanks for the update on order {n}. If anything is unclear you can call me or write to me anytime. Kind regards.",
    "Hi, {thing} stopped working after the update. Let me know if you need anything else from me. Best wishes.",
    "Hello, I am writing about {topic}. You can reach me by phone in the afternoon. Thank you in advance!",
    "Dear support, please check {topic} for me. If you have any questions, just reply to this email. Cheers.",
    "Good morning. I sent {thing} back last week and have not heard anything. Could you look into it? Thanks.",
    "Hi there! Quick question about {topic}: is there anything I need to do on my side? Many thanks, have a nice day.",
    "I really appreciate your help with {topic}. Feel free to contact me whenever it suits you. All the best.",
    # other languages (the corpora's attacks are multilingual, their benign prompts mostly English)
    "Bitte ignorieren Sie meine letzte Nachricht zu {thing}, die Nummer ist {n}.",
    "Können Sie mir bei {topic} helfen? Vergessen Sie die alte Anfrage.",
    "Merci d'ignorer mon message précédent, la commande est {n}.",
    "Pouvez-vous jouer le rôle d'un {role} pour m'aider avec {topic} ?",
    "Por favor ignora mi mensaje anterior, el pedido correcto es {n}.",
    "¿Puedes actuar como un {role} y explicarme {topic}?",
    "Per favore ignora la mia email precedente sull'ordine {n}.",
    "Puoi mostrarmi come funziona {thing}?",
    "Por favor, ignore o e-mail anterior, o número do pedido é {n}.",
    # everyday requests that say "ignore", "disregard", "act as", "remember" about ordinary things
    "Please ignore case when you compare {thing} names.",
    "Ignore whitespace and empty lines when you diff {thing}.",
    "Skip the header row and ignore duplicates when you count {topic}.",
    "Disregard the duplicate ticket I opened about {thing}; the first one is enough.",
    "Just to be clear, disregard the second email I sent about {topic}.",
    "I want you to act as a {role} and tell me something about {topic}.",
    "Act as a {role} and suggest a plan for a weekend about {topic}.",
    "Generate {lang} code to read {thing} and print every row.",
    "Write {lang} code that lists all files in {thing}.",
    "Remember that I prefer short answers and metric units when we talk about {topic}.",
    "For future replies, please keep the tone friendly and mention {thing} only once.",
    "Override the default sort order so that {thing} comes first.",
    "Bypass the splash screen of {thing}: which setting does that?",
    # the same in other languages
    "Können Sie als {role} auftreten und mir bei {topic} helfen?",
    "Vergessen Sie mein altes Angebot zu {thing}, die Preise haben sich geändert.",
    "Ignorieren Sie bitte die doppelte Bestellung {n}.",
    "Pouvez-vous agir comme un {role} et m'expliquer {topic} ?",
    "Oubliez ma demande précédente sur {thing}, voici la nouvelle.",
    "Olvida mi pedido anterior {n}, quiero cambiar {thing}.",
    "¿Puedes hacer de {role} y ayudarme con {topic}?",
    "Puoi fingere di essere un {role} e aiutarmi con {topic}?",
    "Dimentica la mia richiesta precedente su {thing}, grazie.",
)
_FILLERS = {
    "thing": (
        "a folder",
        "node_modules",
        "the build directory",
        "*.log files",
        "a button",
        "the navbar",
        "my old router",
        "the config file",
        "an extension",
        "my account",
        "dotfiles",
        "the test fixtures",
    ),
    "role": (
        "interviewer",
        "tutor",
        "Linux terminal",
        "travel agent",
        "debate partner",
        "French teacher",
        "coach",
        "storyteller",
        "tour guide",
        "chef",
        "poet",
        "career counsellor",
        "personal trainer",
    ),
    "topic": (
        "Python decorators",
        "a refund request",
        "Kubernetes networking",
        "the French revolution",
        "a job interview",
        "tax deductions",
        "unit testing",
        "photosynthesis",
        "my late delivery",
        "SQL joins",
    ),
    "lang": ("Python", "Java", "TypeScript", "Go", "Rust", "bash"),
    "n": ("5591", "48213", "10293", "77", "3", "A-1234", "2024-0042"),
}


def trigger_negatives(rng: random.Random, per_template: int = 12) -> list[Sample]:
    """Innocent questions that use attack words, ``per_template`` fillings of each template."""
    samples = []
    for template in _TRIGGER_TEMPLATES:
        for _ in range(per_template):
            filled = template.format(**{key: rng.choice(values) for key, values in _FILLERS.items()})
            samples.append(Sample(filled, 0, "authored", "train", "trigger_word"))
    return samples


def hijacks(benign: Sequence[Sample], attacks: Sequence[Sample], rng: random.Random, count: int) -> list[Sample]:
    """``count`` benign tasks each followed by a short attack."""
    short = [a for a in attacks if len(a.text) < 400]
    return [
        Sample(
            rng.choice(benign).text + rng.choice(_JOINERS) + rng.choice(short).text, 1, "authored", "train", "hijack"
        )
        for _ in range(count)
    ]


def long_benign(benign: Sequence[Sample], rng: random.Random, count: int) -> list[Sample]:
    """``count`` pairs of benign samples joined."""
    pairs = itertools.islice(((rng.choice(benign), rng.choice(benign)) for _ in itertools.count()), count)
    return [Sample(a.text + rng.choice(_JOINERS) + b.text, 0, "authored", "train", "long_benign") for a, b in pairs]


_SHORT_VERBS = (
    "rate",
    "summarise",
    "summarize",
    "translate",
    "fix",
    "explain",
    "check",
    "review",
    "shorten",
    "rewrite",
    "classify",
    "answer",
    "describe",
    "list",
    "compare",
    "format",
    "proofread",
    "continue",
    "test",
    "try",
)
_SHORT_TAILS = ("this", "this badly", "it", "the text", "the following", "this for me", "please", "again", "this one")


def short_benign(benign: Sequence[Sample], rng: random.Random, count: int) -> list[Sample]:
    """``count`` short benign prompts: prefixes of benign samples and two- or three-word requests."""
    samples = []
    for i in range(count):
        if i % 2:
            words = rng.choice(benign).text.split()
            text = " ".join(words[: rng.randint(1, 4)])
        else:
            text = f"{rng.choice(_SHORT_VERBS)} {rng.choice(_SHORT_TAILS)}"
        samples.append(Sample(text, 0, "authored", "train", "short_benign"))
    return samples


_NUMBER_SHAPES = (
    "Deploy build {a} to staging at {h}:{m2} and tag it v{v}.",
    "Our flight {L}{b} lands at {h}:{m2} at gate {d}{L}.",
    "Version {v} fixes bug #{a} and the crash in module {d}.{m}.",
    "The total for {d} items is ${a}.{m2}, plus {m}% tax.",
    "Ship {d} boxes to unit {b}, {a} Main Street, zip {z}.",
    "Coordinates {d}{m}.{a} N, {m}.{b} W, altitude {a} ft.",
    "Serial {L}{L}{a}-{b}, firmware {v}, manufactured {y}-{m2}-{d2}.",
    "Parcel {L}{L}{a}{b} weighs {d}.{m} kg and is {a} mm long.",
    "Run {a} epochs with batch size {b}, learning rate 0.00{d}, seed {m}.",
    "Invoice {y}-{a} is due on {d2}/{m2}/{y} for {a}.{m2} EUR.",
    "Table {d}, row {a}, column {m}: the value is {b}.{d}.",
    "Between {y} and {y}, revenue grew from {a}k to {b}k, a {m}.{d}% rise.",
    "Booking ref {L}{L}{a}, room {b}, {d} nights from {d2}.{m2}.{y}.",
    "Set max_connections={b}, port {a}, timeout={d}s and retries={m}.",
    "Order {a}-{b}-{d2} was split into parcels {b} and {a}.",
)


def number_benign(rng: random.Random, count: int) -> list[Sample]:
    """``count`` ordinary prompts full of numbers (versions, prices, ids, dates, coordinates, settings)."""
    samples = []
    for _ in range(count):
        fill = {
            "a": rng.randint(10, 99_999),
            "b": rng.randint(100, 9_999),
            "d": rng.randint(1, 9),
            "m": rng.randint(0, 99),
            "m2": f"{rng.randint(0, 59):02d}",
            "d2": f"{rng.randint(1, 28):02d}",
            "h": rng.randint(0, 23),
            "y": rng.randint(1990, 2030),
            "z": f"{rng.randint(0, 99_999):05d}",
            "v": f"{rng.randint(0, 12)}.{rng.randint(0, 30)}.{rng.randint(0, 40)}",
            "L": rng.choice("ABCDEFGHJKLMNPQRSTUVWXZ"),
        }
        samples.append(Sample(rng.choice(_NUMBER_SHAPES).format(**fill), 0, "authored", "train", "numbers"))
    return samples


_GREETINGS = (
    "",
    "",
    "hi",
    "hello",
    "hey",
    "hiya",
    "good afternoon",
    "good evening",
    "morning",
    "greetings",
    "yo",
    "hi again",
    "hello there",
    "hey hey",
)
_SMALL_TALK = (
    # about the assistant, asking nothing of it ("are you a real person" is no extraction attempt)
    "how is it going",
    "how are things",
    "how are you doing today",
    "how have you been",
    "are you there",
    "are you busy",
    "are you an AI",
    "are you a real person",
    "are you human",
    "who am I talking to",
    "who is this",
    "what should I call you",
    "do you have a name",
    "where are you from",
    "what are you up to",
    "do you remember me",
    "can you hear me",
    "what are you good at",
    "what else can you help with",
    "are you smart",
    "can I ask you something",
    "how does this work",
    "what do you know about cooking",
    "do you ever get tired",
    "do you have feelings",
    "are you happy",
    "what is your favourite colour",
    # kind words, thanks, goodbyes
    "you are very kind",
    "you are so helpful",
    "you're the best",
    "you rock",
    "I like you",
    "I missed you",
    "you made my day",
    "thank you",
    "thanks so much",
    "thank you very much for the help",
    "many thanks for your patience",
    "I'm grateful for your support",
    "much appreciated",
    "thanks, you saved me",
    "cheers mate",
    "see you later",
    "see you soon",
    "goodbye",
    "take care",
    "have a nice evening",
    "enjoy your day",
    "catch you later",
    "you too",
    "same to you",
    "love it",
    "you are amazing",
    "thanks for explaining",
    "that helped a lot",
    "I owe you one",
    # fillers and moods
    "ok",
    "cool",
    "great",
    "lol",
    "haha that's funny",
    "I'm sorry",
    "my apologies",
    "excuse me",
    "can you do me a favour",
    "I need some help",
    "one more thing",
    "that's all for today",
    "I'm fine, and you?",
    "not bad, thanks",
    "I'm doing well",
    "what a lovely day",
    "it's raining here",
    "I'm bored",
    "I'm so happy today",
    "congratulations",
    "good luck",
    "well done",
    "hang on a second",
    "wait a moment",
    "let me check",
    "that is interesting",
    "I see",
    "fair enough",
    "sure thing",
    "all good",
    # other languages
    "bonjour, ça va ?",
    "salut",
    "merci",
    "merci pour votre aide",
    "danke schön",
    "guten Tag",
    "wie geht es dir?",
    "vielen Dank",
    "gracias",
    "buenos días",
    "¿qué tal?",
    "muchas gracias por la ayuda",
    "grazie mille",
    "ciao, come stai?",
    "obrigado",
    "tudo bem?",
    "hallo",
    "dank je wel",
    "bis später",
    "à bientôt",
)
_ENDS = ("", ".", "!", "?", "!!", " :)", "...")


def small_talk(rng: random.Random, count: int) -> list[Sample]:
    """``count`` short everyday messages (greetings, thanks, questions about the assistant, goodbyes): the corpora
    hold almost none, and their attacks address "you", so "how are you" had been learnt as attack evidence."""
    samples = []
    for _ in range(count):
        parts = [rng.choice(_GREETINGS), *rng.sample(_SMALL_TALK, rng.choice((1, 1, 2)))]
        text = ", ".join(p for p in parts if p)
        text = (text[0].upper() + text[1:] if rng.random() < 0.7 else text) + rng.choice(_ENDS)
        samples.append(Sample(text, 0, "authored", "train", "small_talk"))
    return samples

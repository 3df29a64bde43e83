"""The verification step refuses near misses that cosine similarity alone would serve, and keeps repeats."""

from __future__ import annotations

import pytest

from gateway.semantic.verify import verify

REFUSED = [
    ("Is ibuprofen safe to take with alcohol?", "Is ibuprofen unsafe to take with alcohol?", "antonym"),
    ("Cancel my subscription", "Don't cancel my subscription", "negation"),
    ("Is the deposit refundable?", "Is the deposit non-refundable?", "negation"),
    ("Remind me at 7am", "Remind me at 7pm", "number_or_date"),
    ("Are you open on Saturday?", "Are you open on Sunday?", "number_or_date"),
    ("Is the 9:15 train on time?", "Is the 9:45 train on time?", "number_or_date"),
    ("What's the stamp duty on a house in England?", "What's the stamp duty on a house in Wales?", "entity"),
    ("Transfer £50 from my savings to my current account", "Transfer £50 from my current account to my savings",
     "role_swap"),
    ("What's covered under the warranty?", "What's covered under the extended warranty?", "scope"),
    ("Is the chicken dish gluten-free?", "Is the beef dish gluten-free?", "substitution"),
    ("Can I get the flu jab for free?", "Can my child get the flu jab for free?", "added_qualifier"),
    # one edit apart but two real words: a swap, not a typo
    ("Is breakfast included at the hotel?", "Is breakfast included at the hostel?", "substitution"),
    ("Is there a charge for non-members?", "Is there a charge for members?", "negation"),
    ("What's the income tax rate on earnings over £50,270?", "What's the income tax rate on earnings over £40,270?",
     "number_or_date"),
    ("What are the benefits of the shingles vaccine?", "What are the downsides of the shingles vaccine?", "antonym"),
    # the same two names in swapped roles
    ("Is there an exit fee for leaving British Gas for Octopus?",
     "If I move from Octopus over to British Gas, will I be charged to leave?", "role_swap"),
    # a phrasal verb read as the one word the antonym list knows ("cut out" = "avoid")
    ("What foods should I eat while taking warfarin?", "What foods should I cut out while taking warfarin?",
     "antonym"),
    ("Who fixes a leak in a rented flat?", "Who fixes a leak in an owned flat?", "antonym"),
    # "once" a count, "first" an ordinal, plural days: still numbers
    ("Can I pay once a month?", "Can I pay twice a month?", "number_or_date"),
    ("When is the first payment due?", "When is the second payment due?", "number_or_date"),
    ("Do you deliver on weekends?", "Do you deliver on weekdays?", "number_or_date"),
    # reworded traps: WordNet antonyms, "more" against "less", whose thing, which slot, which way
    ("How do I improve my credit score?", "Which habits will worsen my credit score?", "antonym"),
    ("How do I strengthen my wifi signal?", "What weakens a wifi signal?", "antonym"),
    ("How do I increase my credit limit?", "Can I ask you to make my credit limit smaller?", "antonym"),
    ("Can I upgrade my seat?", "Can I move to a cheaper seat?", "antonym"),  # a lower price is "less"
    ("How do I reset my own password?", "How can I reset a colleague's password for them?", "scope"),
    ("How do I pay my gas bill?", "Can you pay my electricity bill for me?", "substitution"),
    ("How do I transfer money to my partner?", "How does my partner send money to me?", "role_swap"),
    # reworded traps whose differing words no antonym table pairs, good on one side and bad on the other (VADER)
    ("What foods are good for my teeth?", "Which foods harm my teeth?", "polarity"),
    ("How can I protect my lawn in winter?", "What damages a lawn in winter?", "polarity"),
    ("How do I keep my battery healthy?", "What ruins my phone battery?", "polarity"),
]  # fmt: skip
SERVED = [
    ("How do I cancel my mobile contract?", "How can I cancel my mobile contract?"),
    ("Do you accept Apple Pay?", "Do You Accept Apple Pay?"),
    ("Where can I charge my electric car in town?", "Hey, where can I charge my electric car in town?"),
    ("Is there a discount for students on train tickets?", "On train tickets, is there a discount for students?"),
    ("Do you charge a call-out fee for emergency plumbing?", "Do you charge a call-out fee for emergancy plumbing?"),
    ("Where can I charge my electric car in town?", "Wehre can I charge my electric car in town?"),  # stopword typo
    ("Can I pay with Klarna?", "Can I pay with Klana?"),  # a misspelt name
    ("What time does the leisure centre open on Mondays?", "What time does the leisure center open on Mondys?"),
    ("Who do I contact about a noisy neighbour?", "Who do I contact about a noisy neighbor?"),
    ("Can I upload files larger than 10MB?", "CAN I UPLOAD FILES LARGER THAN 10MB?"),
    ("What's the stamp duty on a £400,000 house?", "what's the stamp duty on a £400000 house"),
    ("What's 15% of 200?", "What's fifteen percent of 200?"),
    ("Transfer £50 to my savings", "Transfer fifty pounds to my savings"),
    ("Does the Pixel support wireless charging?", "Does the Pixel support wireless charge?"),  # lemmas
    ("What's the maximum I can pay into an ISA?", "I'd like to know: what's the maximum I can pay into an ISA?"),
    ("Can I bring my own wine to the restaurant?", "Is it OK to bring my own wine to the restaurant?"),
    # "once" as a conjunction and "first" closing the question are no numbers; "weekends" is "weekend"
    (
        "What's my holiday entitlement when I've worked here five years?",
        "What's my holiday entitlement once I've worked here five years?",
    ),
    (
        "Can my landlord enter the flat without giving notice?",
        "Can my landlord enter the flat without giving notice first?",
    ),
    ("Do you deliver on weekends?", "Do you deliver at the weekend?"),
    ("What's 15% of 200?", "What's fifteen per cent of 200?"),
    # one word swapped for a WordNet synonym of a frequent sense of both
    ("How do I buy a season ticket?", "How do I purchase a season ticket?"),
    ("Is the museum shut on bank holidays?", "Is the museum closed on bank holidays?"),
    # a possessor the other side names too; "card's" is "card is"
    ("What's the capital of Australia?", "Which city is Australia's capital?"),
    ("How do I lock my card?", "My card's missing, how do I lock it?"),
    # the same party after "to" on both sides
    ("Can my partner send money to me?", "Is it possible for my partner to send money to me?"),
    # differing words that lean the same way ("cut" and "lower" are both mildly bad in VADER): no polarity flip
    ("How do I cut my energy bills?", "What lowers my energy bills?"),
    ("What is the cheapest broadband deal?", "Which broadband package costs the least?"),  # "less" on both sides
]


@pytest.mark.parametrize(("cached", "query", "reason"), REFUSED)
def test_near_misses_are_refused_even_at_high_similarity(cached: str, query: str, reason: str) -> None:
    verdict = verify(cached, query, 0.99, restructured_threshold=0.8)
    assert (verdict.ok, verdict.reason) == (False, reason)


@pytest.mark.parametrize(("cached", "query"), SERVED)
def test_repeats_and_light_rewordings_pass(cached: str, query: str) -> None:
    assert verify(cached, query, 0.95, restructured_threshold=0.8).ok


def test_a_swapped_slot_is_refused_but_the_same_words_in_a_reworded_question_pass() -> None:
    # One sentence with one word changed: that word is the difference, whatever the similarity.
    swapped = verify("How do I reset my password?", "How do I reset my passcode?", 0.95, restructured_threshold=0.8)
    assert swapped.reason == "substitution"
    # A reworded question whose content words differ ("reset" / "forgot"): a paraphrase above the threshold.
    assert verify("How do I reset my password?", "I forgot my password, what do I do?", 0.85,
                  restructured_threshold=0.8).ok  # fmt: skip


def test_a_restructured_question_needs_the_stricter_threshold() -> None:
    a, b = "How long does a passport renewal take today?", "Renewing passports today: what is the waiting period?"
    assert not verify(a, b, 0.79, restructured_threshold=0.85).ok
    assert verify(a, b, 0.9, restructured_threshold=0.85).ok

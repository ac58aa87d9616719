"""Passage templates and question forms of the sample's six topic categories.

Every category shares one set of aspects, so each aspect passage of one entity has same-aspect
passages about the other entities of its category: without the entity's name a question is
ambiguous. Question forms reuse the words of the passage templates on purpose: the sample is
meant to be solvable by exact term matching once the entity is restored.

Template fields: ``{x}`` the entity as used mid-sentence ("the giraffe"), ``{X}`` the same
capitalised, ``{name}`` the bare noun ("giraffe"), ``{p}`` the entity's fact phrase for the aspect.
"""
from __future__ import annotations

from typing import NamedTuple


class Category(NamedTuple):
    """Templates shared by the entities of one category.

    ``passages`` maps an aspect to its two passage openings (variants A and B); ``questions`` maps
    it to ``(full, elliptic)`` question pairs, the elliptic one dropping the entity as a user would
    later in a conversation; ``overview`` introduces an entity from ``{kind}`` and its aspect phrases.
    """

    passages: dict[str, tuple[str, str]]
    questions: dict[str, tuple[tuple[str, str], ...]]
    overview: str


ANIMAL = Category(
    passages={
        "habitat": ("The natural habitat of {x} is {p}.", "In the wild, {x} is found in {p}."),
        "diet": ("The diet of {x} consists mainly of {p}.", "To survive, {x} needs to eat {p}."),
        "lifespan": ("In the wild, the lifespan of {x} is {p}.", "A wild {name} can live for {p}."),
        "size": ("An adult {name} can reach a size of {p}.", "Fully grown, {x} measures {p}."),
        "behavior": ("In terms of social behavior, {x} {p}.", "Socially, {x} {p}."),
        "conservation": ("The conservation status of {x} is {p} on the IUCN Red List.",
                         "{X} is listed as {p}, a conservation status that reflects the threats it faces."),
    },
    questions={
        "habitat": (("What is the natural habitat of {x}?", "What is its natural habitat?"),
                    ("Where is {x} found in the wild?", "Where is it found in the wild?")),
        "diet": (("What does {x} eat?", "What does it eat?"),
                 ("What is the diet of {x}?", "What is its diet?")),
        "lifespan": (("How long does {x} live?", "How long does it live?"),
                     ("What is the lifespan of {x}?", "What is its lifespan?")),
        "size": (("How much does {x} weigh?", "How much does it weigh?"),
                 ("What size does an adult {name} reach?", "What size does an adult reach?")),
        "behavior": (("Is {x} a social animal?", "Is it a social animal?"),
                     ("What is the social behavior of {x}?", "What is its social behavior like?")),
        "conservation": (("What is the conservation status of {x}?", "What is its conservation status?"),
                         ("What threats does {x} face?", "What threats does it face?")),
    },
    overview="{X} is {kind}. It is found in {habitat} and feeds mainly on {diet}.",
)

CITY = Category(
    passages={
        "history": ("{X} was founded {p}.", "The history of {x} begins {p}."),
        "location": ("{X} is located {p}.", "The city of {x} lies {p}."),
        "climate": ("The climate of {x} is {p}.", "{X} has a climate that is {p}."),
        "food": ("The local food of {x} includes {p}.", "Visitors to {x} should try local dishes such as {p}."),
        "landmarks": ("The most famous landmarks in {x} include {p}.", "Top attractions for visitors to {x} are {p}."),
        "transport": ("Public transport in {x} includes {p}.", "To get around {x}, visitors can use {p}."),
    },
    questions={
        "history": (("When was {x} founded?", "When was it founded?"),
                    ("What is the history of {x}?", "What is the history of the city?")),
        "location": (("Where is {x} located?", "Where is it located?"),
                     ("Which country is {x} in?", "Which country is it in?")),
        "climate": (("What is the climate like in {x}?", "What is the climate like there?"),
                    ("What is the weather like in {x}?", "What is the weather like there?")),
        "food": (("What local food is {x} known for?", "What local food is it known for?"),
                 ("What dishes should I try in {x}?", "What dishes should I try there?")),
        "landmarks": (("What are the most famous landmarks in {x}?", "What are the most famous landmarks?"),
                      ("What attractions should I visit in {x}?", "What attractions should I visit there?")),
        "transport": (("How does public transport work in {x}?", "How does public transport work there?"),
                      ("How do I get around {x}?", "How do I get around the city?")),
    },
    overview="{X} is {kind}. It is located {location}, and visitors come to see {landmarks}.",
)

INVENTION = Category(
    passages={
        "history": ("{X} was invented by {p}.", "The invention of {x} is credited to {p}."),
        "mechanism": ("To work, {x} relies on {p}.", "The basic working principle of {x} is {p}."),
        "impact": ("{X} changed society by {p}.", "The biggest impact of {x} came from {p}."),
        "cost": ("An early {name} cost {p}.", "The price of {x} when it first appeared was {p}."),
        "modern": ("Today, {x} {p}.", "In its modern form, {x} {p}."),
        "parts": ("The main parts of {x} are {p}.", "{X} is built from {p}."),
    },
    questions={
        "history": (("Who invented {x}?", "Who invented it?"),
                    ("When was {x} invented?", "When was it invented?")),
        "mechanism": (("How does {x} work?", "How does it work?"),
                      ("What is the working principle of {x}?", "What is its working principle?")),
        "impact": (("How did {x} change society?", "How did it change society?"),
                   ("What was the impact of {x}?", "What was its impact?")),
        "cost": (("How much did an early {name} cost?", "How much did an early one cost?"),
                 ("What was the price of {x} when it first appeared?", "What was its price when it first appeared?")),
        "modern": (("How is {x} used today?", "How is it used today?"),
                   ("What is the modern form of {x}?", "What is its modern form?")),
        "parts": (("What are the main parts of {x}?", "What are its main parts?"),
                  ("What is {x} built from?", "What is it built from?")),
    },
    overview="{X} is {kind}. Its story begins with {history}.",
)

FOOD = Category(
    passages={
        "origin": ("{X} is thought to originate in {p}.", "The origin of {x} lies in {p}."),
        "preparation": ("{X} is made from {p}.", "The main ingredients of {x} are {p}."),
        "nutrition": ("The nutritional value of {x} comes from {p}.", "As part of a healthy diet, {x} provides {p}."),
        "cost": ("The cost of {x} is {p}.", "In terms of price, {x} usually sells for {p}."),
        "storage": ("{X} should be stored {p}.", "To stay fresh, {x} should be kept {p}."),
        "varieties": ("Popular varieties of {x} include {p}.", "There are many types of {x}, such as {p}."),
    },
    questions={
        "origin": (("Where does {x} originate?", "Where does it originate?"),
                   ("What is the origin of {x}?", "What is its origin?")),
        "preparation": (("How is {x} made?", "How is it made?"),
                        ("What are the main ingredients of {x}?", "What are the main ingredients?")),
        "nutrition": (("Is {x} healthy?", "Is it healthy?"),
                      ("What is the nutritional value of {x}?", "What is its nutritional value?")),
        "cost": (("How much does {x} cost?", "How much does it cost?"),
                 ("What is the price of {x}?", "What is the price?")),
        "storage": (("How should {x} be stored?", "How should it be stored?"),
                    ("How long does {x} stay fresh?", "How long does it stay fresh?")),
        "varieties": (("What types of {x} are there?", "What types are there?"),
                      ("What are popular varieties of {x}?", "What are popular varieties?")),
    },
    overview="{X} is {kind}. It is made from {preparation}.",
)

SPORT = Category(
    passages={
        "origin": ("The origin of {x} lies in {p}.", "The history of {x} goes back to {p}."),
        "rules": ("The basic rules of {x} are simple: {p}.", "Under the rules of {x}, {p}."),
        "equipment": ("To play {x} you need {p}.", "The equipment used in {x} includes {p}."),
        "cost": ("The cost of taking up {x} is {p}.", "Getting started in {x} takes {p}."),
        "competitions": ("The biggest competition in {x} is {p}.", "Major tournaments in {x} include {p}."),
        "injuries": ("Common injuries in {x} include {p}.", "Doctors who treat {x} players mostly see {p}."),
    },
    questions={
        "origin": (("What is the origin of {x}?", "What is its origin?"),
                   ("What is the history of {x}?", "What is its history?")),
        "rules": (("What are the rules of {x}?", "What are the rules?"),
                  ("How do you score in {x}?", "How do you score?")),
        "equipment": (("What equipment do you need to play {x}?", "What equipment do you need?"),
                      ("What do you need to play {x}?", "What do you need to play it?")),
        "cost": (("How much does it cost to take up {x}?", "How much does it cost to take it up?"),
                 ("Is {x} an expensive sport?", "Is it an expensive sport?")),
        "competitions": (("What is the biggest competition in {x}?", "What is the biggest competition?"),
                         ("What are the major tournaments in {x}?", "What are the major tournaments?")),
        "injuries": (("What are common injuries in {x}?", "What are the common injuries?"),
                     ("Is {x} a dangerous sport?", "Is it a dangerous sport?")),
    },
    overview="{X} is {kind}. In short, {rules}.",
)

DISEASE = Category(
    passages={
        "symptoms": ("The main symptoms of {x} are {p}.", "People with {x} typically experience {p}."),
        "causes": ("{X} is caused by {p}.", "The cause of {x} is {p}."),
        "treatment": ("The treatment for {x} involves {p}.", "{X} is treated with {p}."),
        "prevention": ("{X} can be prevented by {p}.", "Prevention of {x} relies on {p}."),
        "diagnosis": ("{X} is diagnosed with {p}.", "To diagnose {x}, doctors use {p}."),
        "history": ("{X} has been known since {p}.", "The history of {x} goes back to {p}."),
    },
    questions={
        "symptoms": (("What are the symptoms of {x}?", "What are the symptoms?"),
                     ("What are the main symptoms of {x}?", "What are the main symptoms?")),
        "causes": (("What is the cause of {x}?", "What is the cause?"),
                   ("How is {x} spread?", "How is it spread?")),
        "treatment": (("How is {x} treated?", "How is it treated?"),
                      ("What is the treatment for {x}?", "What is the treatment?")),
        "prevention": (("How can {x} be prevented?", "How can it be prevented?"),
                       ("Is there a vaccine for {x}?", "Is there a vaccine?")),
        "diagnosis": (("How is {x} diagnosed?", "How is it diagnosed?"),
                      ("What test is used to diagnose {x}?", "What test is used to diagnose it?")),
        "history": (("What is the history of {x}?", "What is the history of this disease?"),
                    ("How long has {x} been known?", "How long has it been known?")),
    },
    overview="{X} is {kind}. Typical symptoms are {symptoms}.",
)

CATEGORIES: dict[str, Category] = {
    "animal": ANIMAL, "city": CITY, "invention": INVENTION, "food": FOOD, "sport": SPORT, "disease": DISEASE,
}

"""The standard instruments shipped with the product, with their published wording and scoring.

PHQ-9 and GAD-7 (Spitzer, Williams, Kroenke et al.; free to use, no permission required) and the PCL-5
(Weathers et al., National Center for PTSD; public domain). A data migration loads them as version 1;
a change of wording or scoring is a new version loaded by a new migration, so old measures keep theirs.
"""

from __future__ import annotations

from typing import Any

FREQUENCY = [(0, "Not at all"), (1, "Several days"), (2, "More than half the days"), (3, "Nearly every day")]

PHQ_9: dict[str, Any] = {
    "code": "phq-9",
    "name": "PHQ-9 (Patient Health Questionnaire)",
    "instructions": "Over the last 2 weeks, how often have you been bothered by any of the following problems?",
    "options": FREQUENCY,
    "items": [
        "Little interest or pleasure in doing things",
        "Feeling down, depressed, or hopeless",
        "Trouble falling or staying asleep, or sleeping too much",
        "Feeling tired or having little energy",
        "Poor appetite or overeating",
        "Feeling bad about yourself - or that you are a failure or have let yourself or your family down",
        "Trouble concentrating on things, such as reading the newspaper or watching television",
        "Moving or speaking so slowly that other people could have noticed? Or the opposite - being so fidgety "
        "or restless that you have been moving around a lot more than usual",
        "Thoughts that you would be better off dead or of hurting yourself in some way",
    ],
    "bands": [
        (0, 4, "minimal"),
        (5, 9, "mild"),
        (10, 14, "moderate"),
        (15, 19, "moderately severe"),
        (20, 27, "severe"),
    ],
    "alert_rules": [(9, 1, "self_harm", "Thoughts of being better off dead or of self-harm (PHQ-9 item 9)")],
    "remission_below": 5,
    "meaningful_change": 5,
}

GAD_7: dict[str, Any] = {
    "code": "gad-7",
    "name": "GAD-7 (Generalized Anxiety Disorder scale)",
    "instructions": "Over the last 2 weeks, how often have you been bothered by the following problems?",
    "options": FREQUENCY,
    "items": [
        "Feeling nervous, anxious, or on edge",
        "Not being able to stop or control worrying",
        "Worrying too much about different things",
        "Trouble relaxing",
        "Being so restless that it is hard to sit still",
        "Becoming easily annoyed or irritable",
        "Feeling afraid, as if something awful might happen",
    ],
    "bands": [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")],
    "alert_rules": [],
    "remission_below": 5,
    "meaningful_change": 4,
}

PCL_5: dict[str, Any] = {
    "code": "pcl-5",
    "name": "PCL-5 (PTSD Checklist for DSM-5)",
    "instructions": "Below is a list of problems that people sometimes have in response to a very stressful "
    "experience. Please read each problem carefully and then indicate how much you have been bothered by that "
    "problem in the past month.",
    "options": [(0, "Not at all"), (1, "A little bit"), (2, "Moderately"), (3, "Quite a bit"), (4, "Extremely")],
    "items": [
        "Repeated, disturbing, and unwanted memories of the stressful experience?",
        "Repeated, disturbing dreams of the stressful experience?",
        "Suddenly feeling or acting as if the stressful experience were actually happening again (as if you "
        "were actually back there reliving it)?",
        "Feeling very upset when something reminded you of the stressful experience?",
        "Having strong physical reactions when something reminded you of the stressful experience (for example, "
        "heart pounding, trouble breathing, sweating)?",
        "Avoiding memories, thoughts, or feelings related to the stressful experience?",
        "Avoiding external reminders of the stressful experience (for example, people, places, conversations, "
        "activities, objects, or situations)?",
        "Trouble remembering important parts of the stressful experience?",
        "Having strong negative beliefs about yourself, other people, or the world (for example, having thoughts "
        "such as: I am bad, there is something seriously wrong with me, no one can be trusted, the world is "
        "completely dangerous)?",
        "Blaming yourself or someone else for the stressful experience or what happened after it?",
        "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
        "Loss of interest in activities that you used to enjoy?",
        "Feeling distant or cut off from other people?",
        "Trouble experiencing positive feelings (for example, being unable to feel happiness or have loving "
        "feelings for people close to you)?",
        "Irritable behavior, angry outbursts, or acting aggressively?",
        "Taking too many risks or doing things that could cause you harm?",
        'Being "superalert" or watchful or on guard?',
        "Feeling jumpy or easily startled?",
        "Having difficulty concentrating?",
        "Trouble falling or staying asleep?",
    ],
    "bands": [(0, 32, "below the PTSD threshold"), (33, 80, "provisional PTSD")],
    "alert_rules": [],
    "remission_below": 33,
    "meaningful_change": 10,
}

STANDARD_INSTRUMENTS = (PHQ_9, GAD_7, PCL_5)


def load_standard_instruments(models: Any) -> None:
    """Create version 1 of each standard instrument (``models``: a migration's app registry or the real one)."""
    instrument_model = models.get_model("outcomes", "Instrument")
    for spec in STANDARD_INSTRUMENTS:
        instrument, created = instrument_model.objects.get_or_create(
            group=None, code=spec["code"], version=1,
            defaults={"name": spec["name"], "instructions": spec["instructions"],
                      "remission_below": spec["remission_below"], "meaningful_change": spec["meaningful_change"]},
        )  # fmt: skip
        if not created:
            continue
        instrument.items.bulk_create(
            [instrument.items.model(instrument=instrument, number=n, text=text)
             for n, text in enumerate(spec["items"], start=1)]
        )  # fmt: skip
        instrument.options.bulk_create(
            [instrument.options.model(instrument=instrument, value=value, label=label)
             for value, label in spec["options"]]
        )  # fmt: skip
        instrument.bands.bulk_create(
            [instrument.bands.model(instrument=instrument, min_total=low, max_total=high, label=label)
             for low, high, label in spec["bands"]]
        )  # fmt: skip
        instrument.alert_rules.bulk_create(
            [instrument.alert_rules.model(instrument=instrument, item_number=item, min_value=value, code=code,
                                          description=text)
             for item, value, code, text in spec["alert_rules"]]
        )  # fmt: skip

//! Risk as tables: each factor's points for each answer or criticality, then whole
//! assessments (factors → score → level) at every level boundary and as the API suite's
//! assessments score them. The API suite proves the walk and the history read that feed
//! these.

use chrono::{TimeZone, Utc};

use super::*;

fn answers(
    user_impact: UserImpact,
    outage_required: bool,
    tested: bool,
    backout_tested: bool,
    done_before: bool,
) -> RiskQuestionnaire {
    RiskQuestionnaire {
        user_impact,
        outage_required,
        tested,
        backout_tested,
        done_before,
    }
}

/// The questionnaire's factors as (name, points, detail).
fn questionnaire(answers: &RiskQuestionnaire) -> Vec<(RiskFactorName, i32, String)> {
    questionnaire_factors(answers)
        .into_iter()
        .map(|factor| (factor.name, factor.points, factor.detail))
        .collect()
}

#[test]
fn each_answer_weighs_its_points_and_says_so() {
    use RiskFactorName as F;
    // The safest answers, then each answer turned on its own.
    let safe = answers(UserImpact::None, false, true, true, true);
    assert_eq!(
        questionnaire(&safe),
        vec![
            (F::UserImpact, 0, "user impact NONE".to_owned()),
            (F::OutageRequired, 0, "no outage is required".to_owned()),
            (F::Tested, 0, "the change has been tested".to_owned()),
            (
                F::BackoutTested,
                0,
                "the backout plan has been tested".to_owned()
            ),
            (
                F::DoneBefore,
                0,
                "this change has been done before".to_owned()
            ),
        ]
    );
    let cases: [(RiskQuestionnaire, RiskFactorName, i32, &str); 7] = [
        (
            RiskQuestionnaire {
                user_impact: UserImpact::Low,
                ..safe.clone()
            },
            F::UserImpact,
            5,
            "user impact LOW",
        ),
        (
            RiskQuestionnaire {
                user_impact: UserImpact::Medium,
                ..safe.clone()
            },
            F::UserImpact,
            10,
            "user impact MEDIUM",
        ),
        (
            RiskQuestionnaire {
                user_impact: UserImpact::High,
                ..safe.clone()
            },
            F::UserImpact,
            15,
            "user impact HIGH",
        ),
        (
            RiskQuestionnaire {
                outage_required: true,
                ..safe.clone()
            },
            F::OutageRequired,
            15,
            "an outage is required",
        ),
        (
            RiskQuestionnaire {
                tested: false,
                ..safe.clone()
            },
            F::Tested,
            15,
            "the change has not been tested",
        ),
        (
            RiskQuestionnaire {
                backout_tested: false,
                ..safe.clone()
            },
            F::BackoutTested,
            10,
            "the backout plan has not been tested",
        ),
        (
            RiskQuestionnaire {
                done_before: false,
                ..safe.clone()
            },
            F::DoneBefore,
            5,
            "this change has not been done before",
        ),
    ];
    for (answers, name, points, detail) in cases {
        let factors = questionnaire(&answers);
        let weighed: Vec<_> = factors
            .iter()
            .filter(|(_, points, _)| *points > 0)
            .collect();
        assert_eq!(
            weighed,
            vec![&(name, points, detail.to_owned())],
            "{answers:?}"
        );
    }
}

#[test]
fn criticality_one_is_worth_most_and_four_nothing() {
    // criticality → (affected CI points, business service points)
    let table = [(1, 15, 10), (2, 10, 6), (3, 5, 3), (4, 0, 0)];
    for (criticality, item, service) in table {
        assert_eq!(affected_item_points(criticality), item, "CI {criticality}");
        assert_eq!(
            business_service_points(criticality),
            service,
            "service {criticality}"
        );
    }
}

#[test]
fn failure_history_is_fifteen_times_the_share_that_failed_rounded_half_up() {
    // (failed, completed) → points
    let table = [
        ((0, 0), 0),
        ((0, 5), 0),
        ((1, 1), 15),
        ((2, 4), 8), // 7.5
        ((1, 3), 5),
        ((2, 3), 10),
        ((1, 4), 4),  // 3.75
        ((1, 6), 3),  // 2.5
        ((1, 30), 1), // 0.5
        ((1, 31), 0), // 0.48
        ((31, 31), 15),
    ];
    for ((failed, completed), points) in table {
        assert_eq!(
            failure_history_points(failed, completed),
            points,
            "{failed} of {completed}"
        );
    }
}

#[test]
fn a_score_is_low_under_25_medium_under_50_high_under_75_and_very_high_from_75() {
    let table = [
        (0, RiskLevel::Low),
        (24, RiskLevel::Low),
        (25, RiskLevel::Medium),
        (49, RiskLevel::Medium),
        (50, RiskLevel::High),
        (74, RiskLevel::High),
        (75, RiskLevel::VeryHigh),
        (100, RiskLevel::VeryHigh),
    ];
    for (score, level) in table {
        assert_eq!(RiskLevel::of_score(score), level, "{score}");
    }
}

/// An assessment from `answers` and the facts `assess` reads from the database: the most
/// critical affected CI, the most critical business service reached, the recent history.
fn assessment(
    answers: RiskQuestionnaire,
    item: Option<i32>,
    service: Option<i32>,
    (failed, completed): (usize, usize),
) -> RiskAssessment {
    let mut factors = questionnaire_factors(&answers);
    factors.push(factor(
        RiskFactorName::AffectedItemCriticality,
        item.map_or(0, affected_item_points),
        String::new(),
    ));
    factors.push(factor(
        RiskFactorName::BusinessServiceCriticality,
        service.map_or(0, business_service_points),
        String::new(),
    ));
    factors.push(factor(
        RiskFactorName::FailureHistory,
        failure_history_points(failed, completed),
        String::new(),
    ));
    let at = Utc
        .with_ymd_and_hms(2026, 1, 5, 9, 0, 0)
        .single()
        .expect("a valid instant");
    RiskAssessment::from_factors(factors, Some(answers), at, "max")
}

#[test]
fn the_score_is_the_sum_of_the_factors_and_the_level_follows_it() {
    use UserImpact::{High, Low, Medium, None as NoImpact};
    type Row = (
        RiskQuestionnaire,
        Option<i32>,
        Option<i32>,
        (usize, usize),
        i32,
        RiskLevel,
    );
    let table: [Row; 13] = [
        // answers (impact, outage, tested, backout tested, done before), CI, service,
        // history → score, level
        (
            answers(NoImpact, false, true, true, true),
            None,
            None,
            (0, 0),
            0,
            RiskLevel::Low,
        ),
        // The API suite's low-risk answers on a criticality-2 CI of a criticality-2 service.
        (
            answers(NoImpact, false, true, true, true),
            Some(2),
            Some(2),
            (0, 0),
            16,
            RiskLevel::Low,
        ),
        // The API suite's threshold case: 10 + 15 + 5 = 30.
        (
            answers(NoImpact, true, true, true, false),
            Some(2),
            None,
            (0, 0),
            30,
            RiskLevel::Medium,
        ),
        // The API suite's high-risk answers on a criticality-4 CI alone.
        (
            answers(High, true, false, false, false),
            Some(4),
            None,
            (0, 0),
            60,
            RiskLevel::High,
        ),
        // The API suite's explained factors: 10 + 15 + 10 + 15 + 6 + 8 (2 of 4 failed).
        (
            answers(Medium, true, true, false, true),
            Some(1),
            Some(2),
            (2, 4),
            64,
            RiskLevel::High,
        ),
        // Each side of each boundary.
        (
            answers(Low, true, true, true, true),
            None,
            Some(3),
            (1, 15),
            24,
            RiskLevel::Low,
        ),
        (
            answers(NoImpact, false, false, false, true),
            None,
            None,
            (0, 0),
            25,
            RiskLevel::Medium,
        ),
        (
            answers(High, true, true, false, true),
            Some(3),
            Some(3),
            (1, 15),
            49,
            RiskLevel::Medium,
        ),
        (
            answers(High, true, false, true, false),
            None,
            None,
            (0, 0),
            50,
            RiskLevel::High,
        ),
        (
            answers(High, true, false, false, false),
            Some(2),
            None,
            (4, 15),
            74,
            RiskLevel::High,
        ),
        (
            answers(High, true, false, false, false),
            Some(1),
            None,
            (0, 0),
            75,
            RiskLevel::VeryHigh,
        ),
        // Everything at its worst is exactly 100.
        (
            answers(High, true, false, false, false),
            Some(1),
            Some(1),
            (3, 3),
            100,
            RiskLevel::VeryHigh,
        ),
        // No CI at all (a draft's assessment before its CIs): the answers alone.
        (
            answers(Medium, false, true, true, false),
            None,
            None,
            (0, 0),
            15,
            RiskLevel::Low,
        ),
    ];
    for (answers, item, service, history, score, level) in table {
        let what = format!("{answers:?}, CI {item:?}, service {service:?}, history {history:?}");
        let assessment = assessment(answers, item, service, history);
        assert_eq!(assessment.factors.len(), 8, "{what}");
        assert_eq!(
            assessment
                .factors
                .iter()
                .map(|factor| factor.points)
                .sum::<i32>(),
            score,
            "{what}"
        );
        assert_eq!(
            (assessment.score, assessment.level),
            (score, level),
            "{what}"
        );
    }
}

#[test]
fn a_score_stays_within_zero_to_one_hundred() {
    let at = Utc
        .with_ymd_and_hms(2026, 1, 5, 9, 0, 0)
        .single()
        .expect("a valid instant");
    let over = RiskAssessment::from_factors(
        vec![
            factor(RiskFactorName::UserImpact, 70, String::new()),
            factor(RiskFactorName::OutageRequired, 70, String::new()),
        ],
        None,
        at,
        "max",
    );
    assert_eq!((over.score, over.level), (100, RiskLevel::VeryHigh));
    let under = RiskAssessment::from_factors(
        vec![factor(RiskFactorName::FailureHistory, -5, String::new())],
        None,
        at,
        "max",
    );
    assert_eq!((under.score, under.level), (0, RiskLevel::Low));
}

#[test]
fn a_standard_change_is_pre_authorized_at_zero_by_its_template() {
    let at = Utc
        .with_ymd_and_hms(2026, 1, 5, 9, 0, 0)
        .single()
        .expect("a valid instant");
    let standard = RiskAssessment::standard("Rotate the logs", at, "eve");
    assert_eq!((standard.score, standard.level), (0, RiskLevel::Low));
    assert_eq!(standard.questionnaire, None);
    assert_eq!(
        standard.factors,
        vec![RiskFactor {
            name: RiskFactorName::StandardTemplate,
            points: 0,
            detail: "pre-authorized standard change from template `Rotate the logs`".to_owned(),
        }]
    );
}

/// [`RiskAssessment::from_facts`]: facts as the history read gathers them.
mod from_facts {
    use super::*;

    fn item<'a>(number: &'a str, criticality: i32) -> RatedItem<'a> {
        RatedItem {
            number,
            name: "x",
            criticality,
        }
    }

    fn points(assessment: &RiskAssessment, name: RiskFactorName) -> i32 {
        assessment
            .factors
            .iter()
            .find(|factor| factor.name == name)
            .map_or(-1, |factor| factor.points)
    }

    #[test]
    fn the_score_is_the_sum_of_every_factor_and_the_most_critical_ci_counts() {
        let answers = RiskQuestionnaire {
            user_impact: UserImpact::High,
            outage_required: true,
            tested: false,
            backout_tested: true,
            done_before: false,
        };
        let facts = RiskFacts {
            affected: vec![
                item("CI0000009", 3),
                item("CI0000002", 2),
                item("CI0000001", 2),
            ],
            business_services: vec![item("CI0000005", 2), item("CI0000004", 1)],
            failed: 1,
            completed: 3,
        };
        let assessment = RiskAssessment::from_facts(answers, &facts, Utc::now(), "manager");
        // 15 + 15 + 15 + 0 + 5, then criticality 2 (10), a criticality 1 service (10), 15 / 3.
        assert_eq!(assessment.factors.len(), 8);
        assert_eq!(assessment.score, 75);
        assert_eq!(assessment.level, RiskLevel::VeryHigh);
        assert_eq!(points(&assessment, RiskFactorName::FailureHistory), 5);
        let affected = &assessment.factors[5];
        assert_eq!(affected.points, 10);
        assert!(affected.detail.contains("CI0000001"), "{}", affected.detail);
    }

    #[test]
    fn no_ci_no_service_and_no_history_weigh_nothing() {
        let answers = RiskQuestionnaire {
            user_impact: UserImpact::None,
            outage_required: false,
            tested: true,
            backout_tested: true,
            done_before: true,
        };
        let assessment =
            RiskAssessment::from_facts(answers, &RiskFacts::default(), Utc::now(), "manager");
        assert_eq!(assessment.score, 0);
        assert_eq!(assessment.level, RiskLevel::Low);
        assert_eq!(
            points(&assessment, RiskFactorName::AffectedItemCriticality),
            0
        );
        assert_eq!(
            points(&assessment, RiskFactorName::BusinessServiceCriticality),
            0
        );
    }
}

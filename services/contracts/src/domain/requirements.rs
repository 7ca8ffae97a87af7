//! A gig order's requirements: the seller's questions as the gig had them
//! when ordered, and the buyer's answers, checked (every required question
//! answered, no unknown or repeated question, answers of bounded length).

use frevix_platform::error::FieldViolations;
use serde::{Deserialize, Serialize};

/// The longest answer.
pub const MAX_ANSWER: usize = 2000;
/// The most answers one request may carry (a gig asks at most 10 questions).
pub const MAX_QUESTIONS: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub question: String,
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub question_id: String,
    pub answer: String,
}

/// The answers to keep (trimmed, empty ones dropped), or every field that
/// is wrong.
pub fn check(questions: &[Question], given: &[Answer]) -> Result<Vec<Answer>, FieldViolations> {
    let mut violations = FieldViolations::new();
    let mut kept: Vec<Answer> = Vec::new();
    for (i, answer) in given.iter().enumerate() {
        let field = format!("answers[{i}]");
        if !questions.iter().any(|q| q.id == answer.question_id) {
            violations.add(
                format!("{field}.question_id"),
                "is not a question of this order",
            );
            continue;
        }
        if kept.iter().any(|k| k.question_id == answer.question_id) {
            violations.add(format!("{field}.question_id"), "is answered twice");
            continue;
        }
        let text = answer.answer.trim();
        if text.chars().count() > MAX_ANSWER {
            violations.add(
                format!("{field}.answer"),
                "must be at most 2,000 characters",
            );
            continue;
        }
        if !text.is_empty() {
            kept.push(Answer {
                question_id: answer.question_id.clone(),
                answer: text.to_owned(),
            });
        }
    }
    for question in questions.iter().filter(|q| q.required) {
        if !kept.iter().any(|a| a.question_id == question.id) {
            violations.add(
                "answers",
                format!("“{}” needs an answer", question.question),
            );
        }
    }
    violations.finish(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(id: &str, required: bool) -> Question {
        Question {
            id: id.into(),
            question: format!("Question {id}?"),
            required,
        }
    }

    fn answer(id: &str, text: &str) -> Answer {
        Answer {
            question_id: id.into(),
            answer: text.into(),
        }
    }

    #[test]
    fn required_questions_need_answers_and_optional_ones_may_stay_empty() {
        let questions = [question("a", true), question("b", false)];
        let kept = check(&questions, &[answer("a", "  blue  "), answer("b", " ")]).unwrap();
        assert_eq!(kept, [answer("a", "blue")]);
        let missing = check(&questions, &[answer("b", "maybe")]).unwrap_err();
        assert_eq!(
            missing.iter().map(|(f, _)| f).collect::<Vec<_>>(),
            ["answers"]
        );
    }

    #[test]
    fn unknown_repeated_and_overlong_answers_are_named() {
        let questions = [question("a", false)];
        let error = check(
            &questions,
            &[answer("x", "?"), answer("a", "one"), answer("a", "two")],
        )
        .unwrap_err();
        let fields: Vec<&str> = error.iter().map(|(f, _)| f).collect();
        assert_eq!(fields, ["answers[0].question_id", "answers[2].question_id"]);
        let long = "x".repeat(MAX_ANSWER + 1);
        let error = check(&questions, &[answer("a", &long)]).unwrap_err();
        assert_eq!(
            error.iter().map(|(f, _)| f).collect::<Vec<_>>(),
            ["answers[0].answer"]
        );
    }
}

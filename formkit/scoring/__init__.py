"""Scores from answers, by rules the template declares (see ``rules``)."""

from .compute import COMPLETE, INVALID, PENDING, PRORATED, Answer, ScoreResult, gas_t_score, score_form
from .rules import ScoreRule, Scoring, read_scoring

__all__ = ["COMPLETE", "INVALID", "PENDING", "PRORATED", "Answer", "ScoreResult", "ScoreRule", "Scoring",
           "gas_t_score", "read_scoring", "score_form"]

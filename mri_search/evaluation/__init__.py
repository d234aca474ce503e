"""Model-free scoring of retrieval rankings: metrics, bootstrap intervals, TREC files, plots and tables.

    from mri_search.evaluation import bootstrap_ci, evaluate
    ev = evaluate(scores, rel, exclude=np.eye(len(scores), dtype=bool))  # [Q, G] similarities and relevance
    ev.summary()                      # {"mAP": ..., "P_all@1": ..., "P@1": ..., "R@1": ..., "nDCG@10": ...}
    bootstrap_ci(ev.per_query)        # {"mAP": (low, high), ...}

``trec`` writes and re-scores TREC run / qrels files; ``plots`` (matplotlib, imported on use) draws PNG figures;
``report`` nests results.json and formats Markdown tables.
"""

from .bootstrap import bootstrap_ci, bootstrap_means
from .metrics import (
    DEFAULT_KS, Evaluation, average_precision, evaluate, evaluate_ranked, interpolated_precision,
    metric_names, ndcg_at_k, p_all_at_n, precision_at_k, recall_at_k,
)
from .ranking import rank
from .trec import evaluate_lists

__all__ = ["DEFAULT_KS", "Evaluation", "average_precision", "bootstrap_ci", "bootstrap_means", "evaluate",
           "evaluate_lists", "evaluate_ranked", "interpolated_precision", "metric_names", "ndcg_at_k", "p_all_at_n",
           "precision_at_k", "rank", "recall_at_k"]

"""Evaluation: metrics (BLEU/chrF via sacrebleu, StreamLAAL, normalized erasure, latency)
and ``hudtranslate bench``, which runs the system and its baselines on evaluation data.

Modules: ``manifests`` (inputs, validated), ``metrics`` (pure), ``cer`` (recognition's
character error rate, pure), ``runner`` (the systems), ``bench`` (runs and scores them),
``report`` (JSON + Markdown), ``cli`` (the command).
"""

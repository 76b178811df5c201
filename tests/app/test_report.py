"""The report's renderers (lrwb.app.report): Markdown tables and TeX to HTML/MathML. The reports written by a
run (verdict tables, inline figures, links) are tested with the runner in tests/app/test_reproduce.py."""

from __future__ import annotations

from lrwb.app.report import markdown_table_html, tex_text_html, tex_to_mathml


def test_markdown_table_html_renders_pipe_tables():
    out = markdown_table_html("intro <b>\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert "<p>intro &lt;b&gt;</p>" in out and "<th>a</th>" in out and "<td>2</td>" in out
    assert out.count("<tr>") == 2, "the |---| separator row is not a table row"


def test_tex_rendering_of_text_and_formulas():
    assert tex_text_html("L* ∝ C^{-e}, (1 − z/N)^{2β−1}, λ_{j^{2}}, T^2 <x>") == (
        "L* ∝ C<sup>-e</sup>, (1 − z/N)<sup>2β−1</sup>, λ<sub>j<sup>2</sup></sub>, T<sup>2</sup> &lt;x&gt;")
    assert tex_text_html("plrf_fig2 and a_b stay names") == "plrf_fig2 and a_b stay names"
    assert tex_text_html("unbalanced ^{ brace") == "unbalanced ^{ brace"
    assert tex_to_mathml(r"\zeta_T^{\mathrm{power}} \asymp") == (
        "<math><mrow><msubsup><mi>ζ</mi><mi>T</mi><mrow><mi mathvariant='normal'>power</mi></mrow></msubsup>"
        "<mo>≍</mo></mrow></math>")
    assert "<mfrac><mrow><mi>η</mi></mrow><mrow><mi>B</mi></mrow></mfrac>" in tex_to_mathml(r"\tfrac{\eta}{B}")
    assert tex_text_html("sum_{k>N} k^-a. N^-(a-1)") == "sum<sub>k&gt;N</sub> k<sup>-a</sup>. N^-(a-1)"
    assert "<mo stretchy='false'>(</mo>" in tex_to_mathml("e(t)")  # TeX's parentheses do not grow
    assert tex_to_mathml(r"\unknowncmd x") == "<math><mrow><mtext>\\unknowncmd</mtext><mi>x</mi></mrow></math>"
    assert "<script" not in tex_text_html("$<script>$ <script>")

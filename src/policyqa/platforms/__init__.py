"""What the chat platforms that 政务 teams already run need from policyqa: Dify's and
RAGFlow's external knowledge base (``knowledge``), the OpenAI chat shape (``openai``),
and the keys they call with (``keys``). Pure functions over the service's values; the
HTTP routes are in :mod:`policyqa.api.platforms`."""

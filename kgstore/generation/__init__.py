"""Text generation by an LLM: item descriptions and users' preference keywords, the
paper's two prompts (`prompts`). A small `Generator` interface (`base`), one module per
backend (`openai_compatible`: vLLM, Ollama, llama.cpp's server, hosted APIs), the
documented non-LLM texts used when no generator is configured (`fallback`), and
`pipeline`, which reads the inputs from Neo4j, generates what changed and writes the
texts back with their model and prompt version."""

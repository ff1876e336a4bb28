// The embedder a project uses unless it names its own: kept apart from the ONNX code so that configuration
// (the API and trainer Lambdas, infra) can name it without loading onnxruntime.

export const DEFAULT_EMBEDDER = 'mobilenetv2-features';

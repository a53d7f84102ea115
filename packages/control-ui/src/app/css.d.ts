// The element's bundle imports the stylesheet as text (esbuild's text loader) for its shadow root.
declare module "*.css" {
  const text: string;
  export default text;
}

// The API docs page (/api/docs): Swagger UI on this service's own OpenAPI document.
// A classic script (Swagger UI's bundle defines a global), kept out of the page so that
// its Content-Security-Policy allows no inline script.
window.ui = window.SwaggerUIBundle({
  url: '/api/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [window.SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  // Calls from the page go with the session cookie; changing calls need the CSRF header.
  requestInterceptor: (request) => {
    request.headers['X-Preview-CSRF'] = '1';
    return request;
  },
});

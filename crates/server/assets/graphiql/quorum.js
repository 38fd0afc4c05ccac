// Quorum's GraphiQL: queries and mutations over POST /graphql, subscriptions over /graphql/ws
// (graphql-transport-ws), with the bearer token given once for both. In `serve --dev` the
// printed tokens are offered by role. Everything is served by the quorum binary: no CDN.
(function () {
  "use strict";
  var TOKEN_KEY = "quorum.graphiql.token";
  var ROLE_KEY = "quorum.graphiql.role";
  var roleSelect = document.getElementById("quorum-role");
  var roleLabel = document.getElementById("quorum-role-label");
  var tokenInput = document.getElementById("quorum-token");
  var tokenLabel = document.getElementById("quorum-token-label");
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  var wsUrl = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/graphql/ws";
  var params = new URLSearchParams(location.search);
  var wsClient = null;

  function headers(token) {
    return token ? { Authorization: "Bearer " + token } : {};
  }

  function render(token) {
    if (wsClient) {
      wsClient.dispose();
    }
    wsClient = graphqlWs.createClient({ url: wsUrl, lazy: true, connectionParams: headers(token) });
    var fetcher = GraphiQL.createFetcher({ url: "/graphql", headers: headers(token), wsClient: wsClient });
    root.render(React.createElement(GraphiQL, {
      // A new fetcher (another token) needs a new editor state.
      key: token || "anonymous",
      fetcher: fetcher,
      // `?document=` (not `query`, which makes GET /graphql run it as GraphQL over HTTP).
      defaultQuery: params.get("document") || "{\n  viewer {\n    subject\n    roles\n  }\n}\n",
      defaultEditorToolsVisibility: false,
    }));
  }

  tokenInput.value = localStorage.getItem(TOKEN_KEY) || "";
  tokenInput.addEventListener("change", function () {
    localStorage.setItem(TOKEN_KEY, tokenInput.value.trim());
    render(tokenInput.value.trim());
  });

  // Only `serve --dev` answers this: the tokens it printed, one per role.
  fetch("/graphiql/dev-tokens").then(function (response) {
    return response.ok ? response.json() : [];
  }).catch(function () {
    return [];
  }).then(function (tokens) {
    if (!tokens.length) {
      render(tokenInput.value.trim());
      return;
    }
    tokens.forEach(function (entry) {
      var option = document.createElement("option");
      option.value = entry.token;
      option.textContent = entry.role + " (" + entry.subject + ")";
      option.dataset.role = entry.role;
      roleSelect.appendChild(option);
    });
    var wanted = params.get("role") || localStorage.getItem(ROLE_KEY);
    Array.prototype.forEach.call(roleSelect.options, function (option) {
      if (option.dataset.role === wanted) {
        roleSelect.value = option.value;
      }
    });
    roleLabel.hidden = false;
    tokenLabel.hidden = true;
    roleSelect.addEventListener("change", function () {
      localStorage.setItem(ROLE_KEY, roleSelect.selectedOptions[0].dataset.role);
      render(roleSelect.value);
    });
    render(roleSelect.value);
  });
})();

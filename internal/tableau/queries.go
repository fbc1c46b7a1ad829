package tableau

// The Metadata API queries this client sends. Each is validated against
// Tableau's schema (emulator/schema/tableau-metadata.graphql) in a test.
// Pages are ordered by LUID or ID so cursors stay stable while content changes.

// WorkbooksQuery pages through workbooks with their upstream tables.
const WorkbooksQuery = `query Workbooks($first: Int!, $after: String) {
  workbooksConnection(first: $first, after: $after, orderBy: {field: LUID, direction: ASC}) {
    nodes {
      luid
      name
      description
      vizportalUrlId
      projectLuid
      projectName
      updatedAt
      owner { username name email }
      tags { name }
      upstreamTables {
        luid
        name
        schema
        fullName
        connectionType
        database { name connectionType }
      }
      upstreamDatasources { luid name hasExtracts }
      embeddedDatasources { name hasExtracts }
    }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`

// CustomSQLQuery pages through custom SQL tables and the workbooks reading them.
const CustomSQLQuery = `query CustomSQL($first: Int!, $after: String) {
  customSQLTablesConnection(first: $first, after: $after, orderBy: {field: ID, direction: ASC}) {
    nodes {
      id
      query
      connectionType
      database { name connectionType }
      downstreamWorkbooks { luid }
    }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`

// SheetsQuery pages through every sheet of the site with the data source
// fields it uses; a sheet's workbook is null when the user may not see it.
const SheetsQuery = `query Sheets($first: Int!, $after: String) {
  sheetsConnection(first: $first, after: $after, orderBy: {field: ID, direction: ASC}) {
    nodes {
      id
      workbook { luid }
      datasourceFields { id name datasource { id } }
    }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`

// FieldsQuery reads fields by ID, each with its lineage one step up: the
// columns it reads, the fields it is computed from, and for a field of a
// published data source, that source's field.
const FieldsQuery = `query Fields($first: Int!, $after: String, $ids: [ID]) {
  fieldsConnection(first: $first, after: $after, filter: {idWithin: $ids}, orderBy: {field: ID, direction: ASC}) {
    nodes {
      __typename
      id
      name
      datasource { id }
      upstreamColumns {
        name
        table {
          __typename
          id
          name
          ... on DatabaseTable { schema fullName connectionType database { name connectionType } }
          ... on CustomSQLTable { query connectionType database { name connectionType } }
        }
      }
      upstreamFields { id name datasource { id } }
      ... on DatasourceField { remoteField { id name datasource { id } } }
    }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`

// Queries lists every query the client can send, for validation.
var Queries = map[string]string{"Workbooks": WorkbooksQuery, "CustomSQL": CustomSQLQuery, "Sheets": SheetsQuery, "Fields": FieldsQuery}

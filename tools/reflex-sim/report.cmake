# reflex_sim_report: the writers of reflex-sim's outputs (text table, JSON, CSV, HTML report).
add_library(reflex_sim_report STATIC ${CMAKE_CURRENT_LIST_DIR}/report_writer.cc
  ${CMAKE_CURRENT_LIST_DIR}/report_html.cc ${CMAKE_CURRENT_LIST_DIR}/report_svg.cc)
target_include_directories(reflex_sim_report PUBLIC ${PROJECT_SOURCE_DIR}/libs ${PROJECT_SOURCE_DIR}/tools)
target_link_libraries(reflex_sim_report PUBLIC reflex_core nlohmann_json::nlohmann_json)
